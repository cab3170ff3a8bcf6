from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("", views.webhook_settings_view, name="settings"),
    path("<uuid:public_id>/", views.webhook_endpoint_view, name="endpoint"),
    path("<uuid:public_id>/enable/", views.webhook_enable_view, name="enable"),
    path("<uuid:public_id>/delete/", views.webhook_delete_view, name="delete"),
    path(
        "deliveries/<uuid:public_id>/redeliver/",
        views.webhook_redeliver_view,
        name="redeliver",
    ),
]
