from django.urls import path

from . import conversations, views

app_name = "community"

urlpatterns = [
    path("notifications/", views.notification_list_view, name="list"),
    path("notifications/<int:pk>/", views.notification_open_view, name="open"),
    path("notifications/badge/", views.notification_badge_view, name="badge"),
    path("notifications/read-all/", views.notification_read_all_view, name="read_all"),
    path("settings/notifications/", views.notification_settings_view, name="settings"),
    path("messages/", conversations.inbox_view, name="inbox"),
    path("messages/start/", conversations.thread_start_view, name="thread_start"),
    path("messages/held/", conversations.held_messages_view, name="held"),
    path("messages/<int:pk>/", conversations.thread_view, name="thread"),
    path("messages/<int:pk>/since/<int:after>/", conversations.thread_since_view, name="since"),
    path("messages/m/<int:pk>/edit/", conversations.message_edit_view, name="message_edit"),
    path("messages/files/<int:pk>/", conversations.attachment_view, name="attachment"),
]
