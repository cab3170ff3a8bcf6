"""Placeholder views; the wallet pages are being built."""

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("Not built yet.", status=501)


wallet_view = deposit_create_view = deposit_return_view = payout_create_view = _todo
org_wallet_view = staff_payouts_view = payout_paid_view = payout_failed_view = _todo
