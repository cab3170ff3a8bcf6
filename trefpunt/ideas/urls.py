from django.urls import path

from .views import calls, ideas, staff

app_name = "ideas"
urlpatterns = [
    path("", calls.call_list_view, name="list"),
    path("new/", calls.call_create_view, name="create"),
    path("dashboard/", calls.client_dashboard_view, name="client_dashboard"),
    path("mine/", calls.participant_dashboard_view, name="participant_dashboard"),
    path("staff/voting/", staff.staff_voting_view, name="staff_voting"),
    path("staff/reports/", staff.staff_reports_view, name="staff_reports"),
    path("staff/reports/<int:pk>/", staff.staff_report_action_view, name="staff_report_action"),
    path("calls/<int:pk>/", calls.call_detail_view, name="call"),
    path("calls/<int:pk>/edit/", calls.call_edit_view, name="edit"),
    path("calls/<int:pk>/publish/", calls.call_publish_view, name="publish"),
    path("calls/<int:pk>/close/", calls.call_close_view, name="close"),
    path("calls/<int:pk>/stages/", calls.call_stage_view, name="stages"),
    path("calls/<int:pk>/invite/", calls.call_invite_view, name="invite"),
    path("calls/<int:pk>/follow/", calls.call_follow_view, name="call_follow"),
    path("calls/<int:pk>/cover/", calls.call_cover_view, name="cover"),
    path("calls/<int:pk>/submit/", ideas.idea_create_view, name="submit"),
    path("calls/<int:pk>/similar/", ideas.similar_view, name="similar"),
    path("calls/<int:pk>/feed/", calls.call_feed_view, name="feed"),
    path("<int:pk>/", ideas.idea_detail_view, name="idea"),
    path("<int:pk>/edit/", ideas.idea_edit_view, name="idea_edit"),
    path("<int:pk>/update/", ideas.idea_update_view, name="idea_update"),
    path("<int:pk>/vote/", ideas.idea_vote_view, name="vote"),
    path("<int:pk>/stage/", ideas.idea_stage_view, name="stage"),
    path("<int:pk>/merge/", ideas.idea_merge_view, name="merge"),
    path("<int:pk>/follow/", ideas.idea_follow_view, name="follow"),
    path("<int:pk>/comments/", ideas.comment_create_view, name="comment"),
    path("<int:pk>/report/", ideas.report_view, name="report"),
    path("comments/<int:pk>/edit/", ideas.comment_edit_view, name="comment_edit"),
    path("files/<int:pk>/<str:variant>/", ideas.attachment_view, name="file"),
]
