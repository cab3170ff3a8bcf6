from django.urls import path

from . import views

app_name = "moderation"
urlpatterns = [
    path("", views.queue_view, name="queue"),
    path("act/", views.content_action_view, name="act"),
    path("appeals/<int:pk>/", views.appeal_decide_view, name="appeal_decide"),
    path("audit/", views.audit_view, name="audit"),
    path("console/", views.console_view, name="console"),
    path("users/<int:pk>/", views.user_view, name="user"),
    path("report/<str:kind>/<int:pk>/", views.report_view, name="report"),
    path("decisions/<int:pk>/", views.decision_view, name="decision"),
]
