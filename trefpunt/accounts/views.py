"""Placeholder views; the accounts pages are being built."""

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("Not built yet.", status=501)


profile_view = profile_edit_view = portfolio_create_view = portfolio_delete_view = _todo
token_list_view = token_revoke_view = org_list_view = org_create_view = _todo
invitation_accept_view = org_detail_view = org_invite_view = member_remove_view = _todo
