from django.urls import path

from . import views

app_name = "contests"
urlpatterns = [
    path("", views.contest_list_view, name="list"),
    path("new/", views.contest_create_view, name="create"),
    path("dashboard/", views.client_dashboard_view, name="client_dashboard"),
    path("my-entries/", views.entrant_dashboard_view, name="entrant_dashboard"),
    path("flags/", views.staff_flags_view, name="staff_flags"),
    path("<int:pk>/", views.contest_detail_view, name="detail"),
    path("<int:pk>/edit/", views.contest_edit_view, name="edit"),
    path("<int:pk>/attachments/", views.attachment_add_view, name="attachment_add"),
    path(
        "<int:pk>/attachments/<int:aid>/",
        views.attachment_download_view,
        name="attachment",
    ),
    path(
        "<int:pk>/attachments/<int:aid>/remove/",
        views.attachment_remove_view,
        name="attachment_remove",
    ),
    path("<int:pk>/invite/", views.contest_invite_view, name="invite"),
    path("<int:pk>/invitation/", views.contest_invitation_view, name="invitation"),
    path("<int:pk>/nda/", views.contest_nda_accept_view, name="nda_accept"),
    path("<int:pk>/publish/", views.contest_publish_view, name="publish"),
    path("<int:pk>/cancel/", views.contest_cancel_view, name="cancel"),
    path("<int:pk>/close/", views.contest_close_view, name="close"),
    path("<int:pk>/finalist-round/", views.finalist_round_view, name="finalist_round"),
    path("<int:pk>/enter/", views.entry_create_view, name="enter"),
    path("<int:pk>/judge/", views.judge_view, name="judge"),
    path("<int:pk>/award/", views.contest_award_view, name="award"),
    path("entries/<int:pk>/", views.entry_detail_view, name="entry"),
    path("entries/<int:pk>/rate/", views.entry_rate_view, name="entry_rate"),
    path("entries/<int:pk>/finalist/", views.entry_finalist_view, name="entry_finalist"),
    path("entries/<int:pk>/decline/", views.entry_decline_view, name="entry_decline"),
    path("entries/<int:pk>/withdraw/", views.entry_withdraw_view, name="entry_withdraw"),
    path("entries/<int:pk>/revise/", views.entry_revise_view, name="entry_revise"),
    path("entries/<int:pk>/report/", views.entry_report_view, name="entry_report"),
    path("entries/<int:pk>/portfolio/", views.entry_portfolio_view, name="entry_portfolio"),
    path("entries/<int:pk>/handover/", views.handover_view, name="handover"),
    path(
        "entries/<int:pk>/handover/confirm/", views.handover_confirm_view, name="handover_confirm"
    ),
    path("files/<int:pk>/<str:variant>/", views.entry_file_view, name="file"),
    path("handover-files/<int:pk>/", views.handover_file_view, name="handover_file"),
]
