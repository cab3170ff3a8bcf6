from __future__ import annotations

from datetime import datetime

from ninja import Schema


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    url: str
    created_at: datetime
    read: bool


class NotificationPageOut(Schema):
    count: int
    unread: int
    items: list[NotificationOut]


class ReadAllOut(Schema):
    marked_read: int


class NotificationSettingOut(Schema):
    kind: str
    label: str
    delivery: str
    essential: bool
