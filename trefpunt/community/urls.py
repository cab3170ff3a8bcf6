from django.urls import path

from . import views

app_name = "community"

urlpatterns = [
    path("notifications/", views.notification_list_view, name="list"),
    path("notifications/<int:pk>/", views.notification_open_view, name="open"),
    path("notifications/read-all/", views.notification_read_all_view, name="read_all"),
    path("settings/notifications/", views.notification_settings_view, name="settings"),
]
