from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("Not built yet.", status=501)


contest_list_view = contest_create_view = client_dashboard_view = entrant_dashboard_view = _todo
staff_flags_view = contest_detail_view = contest_edit_view = attachment_add_view = _todo
attachment_download_view = attachment_remove_view = contest_invite_view = _todo
contest_publish_view = contest_cancel_view = contest_close_view = finalist_round_view = _todo
entry_create_view = judge_view = contest_award_view = entry_detail_view = entry_rate_view = _todo
entry_finalist_view = entry_decline_view = entry_withdraw_view = entry_revise_view = _todo
entry_report_view = entry_portfolio_view = handover_view = handover_confirm_view = _todo
entry_file_view = handover_file_view = _todo
