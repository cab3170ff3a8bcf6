from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from trefpunt.core.api_schema import InSchema


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


class ThreadIn(InSchema):
    subject: str = Field(max_length=30)
    subject_id: int = Field(ge=1, le=2**53)
    key: str = Field("", max_length=40)


class ThreadOut(Schema):
    id: int
    subject: str
    subject_id: int
    key: str
    title: str
    url: str
    message_count: int
    unread: int
    last_message_at: datetime | None


class AttachmentOut(Schema):
    name: str
    size: int
    url: str


class MessageIn(InSchema):
    body: str = Field(max_length=5000)


class MessageOut(Schema):
    id: int
    number: int
    author: str
    body: str
    status: str
    created_at: datetime
    edited_at: datetime | None
    attachments: list[AttachmentOut]
