"""Every write of the community app: notices and preferences, conversations."""

from .messages import (
    held_message_decide,
    message_edit,
    message_post,
    thread_open,
    thread_read,
)
from .notices import (
    notification_read,
    notification_settings_update,
    notification_unsubscribe,
    notifications_read_all,
)

__all__ = [
    "held_message_decide",
    "message_edit",
    "message_post",
    "notification_read",
    "notification_settings_update",
    "notification_unsubscribe",
    "notifications_read_all",
    "thread_open",
    "thread_read",
]
