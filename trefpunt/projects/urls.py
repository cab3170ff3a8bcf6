from django.urls import path

from . import views

app_name = "projects"
urlpatterns = [
    path("", views.job_list_view, name="list"),
    path("new/", views.job_create_view, name="create"),
    path("dashboard/", views.client_dashboard_view, name="client_dashboard"),
    path("mine/", views.freelancer_dashboard_view, name="freelancer_dashboard"),
    path("jobs/<int:pk>/", views.job_detail_view, name="job"),
    path("jobs/<int:pk>/edit/", views.job_edit_view, name="edit"),
    path("jobs/<int:pk>/publish/", views.job_publish_view, name="publish"),
    path("jobs/<int:pk>/close/", views.job_close_view, name="close"),
    path("jobs/<int:pk>/invite/", views.job_invite_view, name="invite"),
    path("jobs/<int:pk>/propose/", views.proposal_create_view, name="propose"),
    path("jobs/<int:pk>/compare/", views.proposal_compare_view, name="compare"),
    path("proposals/<int:pk>/", views.proposal_detail_view, name="proposal"),
    path("proposals/<int:pk>/edit/", views.proposal_edit_view, name="proposal_edit"),
    path(
        "proposals/<int:pk>/<slug:action>/",
        views.proposal_action_view,
        name="proposal_action",
    ),
    path("contracts/<int:pk>/", views.contract_detail_view, name="contract"),
    path("contracts/<int:pk>/milestones/", views.milestone_add_view, name="milestone_add"),
    path("contracts/<int:pk>/end/", views.contract_end_view, name="end"),
    path("contracts/<int:pk>/dispute/<slug:step>/", views.dispute_view, name="dispute"),
    path("contracts/<int:pk>/review/", views.review_view, name="review"),
    path("milestones/<int:pk>/<slug:action>/", views.milestone_action_view, name="milestone"),
    path("files/<int:pk>/", views.delivery_file_view, name="file"),
    path("attachments/<int:pk>/", views.job_attachment_view, name="attachment"),
]
