"""Every write of the webhooks: endpoints, deliveries, attempts.

Delivery: ``deliveries_create`` (after the event's transaction commits) stores one delivery
per listening endpoint and queues its first attempt. ``delivery_attempt`` claims a due
delivery with a conditional update (two workers never send the same attempt), sends it,
and logs the attempt. A refused or unanswered attempt is retried with exponential backoff
(``RETRY_DELAYS``, then every ``RETRY_DELAYS[-1]``) until ``WEBHOOK_RETRY_HOURS`` after the
event; the sweep ``webhooks_retry`` queues the due ones. An endpoint whose deliveries have
failed for ``WEBHOOK_DISABLE_AFTER_HOURS`` is disabled and its owners told.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.core.exceptions import Conflict, ErrorCode, ValidationFailed

from .addresses import AddressRefused, url_target
from .events import webhook_event_known
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .notifications import ENDPOINT_DISABLED
from .signing import SIGNATURE_HEADER, webhook_sign

if TYPE_CHECKING:
    from trefpunt.accounts.models import Organisation, User

# Waits after the 1st, 2nd, … failed attempt (×4 each time); after the last, that wait
# repeats until the retry window closes.
RETRY_DELAYS = [timedelta(seconds=30 * 4**n) for n in range(6)]  # 30 s … 8 h 32 min
# A claimed attempt holds the delivery this long (longer than the request's timeout), so a
# worker that died mid-request does not strand it.
CLAIM = timedelta(minutes=2)
TIMEOUT_SECONDS = 10
MAX_ENDPOINTS = 20
USER_AGENT = "Trefpunt-Webhooks/1"


def retry_window() -> timedelta:
    return timedelta(hours=getattr(settings, "WEBHOOK_RETRY_HOURS", 24))


def disable_after() -> timedelta:
    return timedelta(hours=getattr(settings, "WEBHOOK_DISABLE_AFTER_HOURS", 24))


# --- endpoints ------------------------------------------------------------------------------


def _url_clean(url: str) -> str:
    url = (url or "").strip()
    if len(url) > 500:
        raise ValidationFailed(fields={"url": _("Use at most 500 characters.")})
    try:
        url_target(url)
    except AddressRefused as exc:
        raise ValidationFailed(fields={"url": str(exc)}) from None
    return url


def _events_clean(events: Any) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise ValidationFailed(fields={"events": _("Choose at least one event.")})
    unknown = [e for e in events if not isinstance(e, str) or not webhook_event_known(e)]
    if unknown:
        names = ", ".join(map(str, unknown))
        message = _("Unknown events: %(names)s.") % {"names": names}
        raise ValidationFailed(fields={"events": message})
    return sorted(set(events))


def endpoint_create(
    *,
    user: User,
    url: str,
    events: list[str],
    organisation: Organisation | None = None,
    description: str = "",
) -> WebhookEndpoint:
    """Register an endpoint for the events of the user's own work, or (as an owner or admin)
    of the organisation's. The secret is generated here and shown to the owner."""
    from trefpunt.accounts.services import organisation_require_admin

    if organisation is not None:
        organisation_require_admin(organisation=organisation, user=user)
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    checks: list[tuple[str, Callable[[], Any]]] = [
        ("url", lambda: _url_clean(url)),
        ("events", lambda: _events_clean(events)),
    ]
    for name, clean in checks:
        try:
            cleaned[name] = clean()
        except ValidationFailed as exc:
            errors.update({k: v[0] for k, v in exc.fields.items()})
    if len(description) > 200:
        errors["description"] = _("Use at most 200 characters.")
    if errors:
        raise ValidationFailed(fields=errors)
    owned = _owned(user=user, organisation=organisation)
    if owned.count() >= MAX_ENDPOINTS:
        raise Conflict(
            _("You can register at most %(n)d endpoints.") % {"n": MAX_ENDPOINTS},
            code=ErrorCode.LIMIT_REACHED,
        )
    return WebhookEndpoint.objects.create(
        user=user,
        organisation=organisation,
        url=cleaned["url"],
        events=cleaned["events"],
        description=description.strip(),
        secret="whsec_" + secrets.token_hex(24),
    )


def _owned(*, user: User, organisation: Organisation | None) -> Any:
    if organisation is not None:
        return WebhookEndpoint.objects.filter(organisation=organisation)
    return WebhookEndpoint.objects.filter(user=user, organisation__isnull=True)


def endpoint_update(
    *, endpoint: WebhookEndpoint, url: str | None = None, events: list[str] | None = None
) -> WebhookEndpoint:
    """Change where an endpoint is and what it hears (the caller checked it may manage it)."""
    fields = []
    if url is not None:
        endpoint.url = _url_clean(url)
        fields.append("url")
    if events is not None:
        endpoint.events = _events_clean(events)
        fields.append("events")
    if fields:
        endpoint.save(update_fields=fields)
    return endpoint


def endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Turn a disabled endpoint back on (its failures forgotten)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=True, disabled_at=None, failing_since=None
    )
    endpoint.refresh_from_db()
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


# --- deliveries -----------------------------------------------------------------------------


def webhook_listeners(*, user_id: int | None, organisation_id: int | None) -> dict[int, list[str]]:
    """The active endpoints hearing about the work of this owner: id → its events (one
    query). A hot path asks this once and emits only what someone listens to."""
    if organisation_id is not None:
        rows = WebhookEndpoint.objects.filter(organisation_id=organisation_id, is_active=True)
    elif user_id is not None:
        rows = WebhookEndpoint.objects.filter(
            user_id=user_id, organisation__isnull=True, is_active=True
        )
    else:
        return {}
    return dict(rows.values_list("pk", "events"))


_LISTENERS_SQL = """(
    SELECT json_agg(json_build_array(e.id, e.events)) FROM {table} e
    WHERE e.is_active AND CASE WHEN {organisation} IS NOT NULL
        THEN e.organisation_id = {organisation}
        ELSE e.user_id = {user} AND e.organisation_id IS NULL END
)"""


def webhook_listeners_sql(*, user: str, organisation: str) -> str:
    """``webhook_listeners`` as a scalar subquery for a hot statement that already reads
    the owner's row: ``user`` and ``organisation`` are its SQL expressions for the owner's
    ids. Gives the same as ``webhook_listeners`` as a JSON array of ``[id, events]`` pairs,
    or NULL for none (read with ``webhook_listeners_read``); the same rule, written for
    PostgreSQL: ``test_webhook_listeners_sql_agrees_with_webhook_listeners`` pins that
    they agree."""
    return _LISTENERS_SQL.format(
        table=connection.ops.quote_name(WebhookEndpoint._meta.db_table),
        user=user,
        organisation=organisation,
    )


def webhook_listeners_read(value: Any) -> dict[int, list[str]]:
    """The listeners from the value of ``webhook_listeners_sql``."""
    if value is None:
        return {}
    pairs = json.loads(value) if isinstance(value, str) else value
    return {int(pk): events for pk, events in pairs}


def deliveries_create(
    *,
    event: str,
    event_id: str,
    user_id: int | None,
    organisation_id: int | None,
    data: Mapping[str, Any],
    listeners: dict[int, list[str]] | None = None,
) -> list[int]:
    """Store the event for every endpoint listening to it and queue the first attempts.
    An endpoint that already has this ``event_id`` is skipped (repeats are harmless)."""
    return deliveries_create_many(
        event=event,
        events=[(event_id, data)],
        user_id=user_id,
        organisation_id=organisation_id,
        listeners=listeners,
    )


# Events stored per statement by ``deliveries_create_many`` (a fit may complete a batch's
# 100,000 items at once).
DELIVERIES_CHUNK = 1000


def deliveries_create_many(
    *,
    event: str,
    events: Sequence[tuple[str, Mapping[str, Any]]],
    user_id: int | None,
    organisation_id: int | None,
    listeners: dict[int, list[str]] | None = None,
) -> list[int]:
    """``deliveries_create`` for many events of one kind and owner, ``(event_id, data)``
    each: stored a chunk at a time (one insert, one read-back), the first attempts queued
    after the commit. Returns the ids of the deliveries stored by this call; an endpoint
    that already has an event's id is skipped for it (also when another process stores
    it at the same time: the insert ignores the conflict, and only rows of this call's
    time are read back)."""
    now = timezone.now()
    if listeners is None:
        listeners = webhook_listeners(user_id=user_id, organisation_id=organisation_id)
    # Filtered here: JSON containment is not portable across databases, and an owner has a
    # handful of endpoints.
    endpoints = sorted(pk for pk, events in listeners.items() if event in events)
    created: list[int] = []
    if not endpoints:
        return created
    for start in range(0, len(events), DELIVERIES_CHUNK):
        chunk = events[start : start + DELIVERIES_CHUNK]
        rows = [
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event=event,
                event_id=event_id,
                payload={
                    "id": event_id,
                    "type": event,
                    "created": now.isoformat(),
                    "data": dict(data),
                },
                created_at=now,
                next_attempt_at=now,
            )
            for event_id, data in chunk
            for endpoint_id in endpoints
        ]
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        created += (
            WebhookDelivery.objects.filter(
                endpoint_id__in=endpoints,
                event_id__in=[event_id for event_id, _data in chunk],
                redelivery_of__isnull=True,
                created_at=now,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    _enqueue_on_commit(created)
    return created


# A burst of more deliveries than this is queued as tasks of this many each: one task per
# delivery made a fit that completed 10,000 items spend 9.4 s queueing them (database task
# backend). Small enough that a task against an endpoint that never answers (15 s an attempt
# at most) ends within a task queue's usual time limit (production: 600 s); deliveries a
# stopped task did not reach stay due, and the sweep queues them.
DELIVERIES_PER_TASK = 20


def _enqueue_on_commit(ids: list[int]) -> None:
    if not ids:
        return

    def enqueue() -> None:
        from .tasks import webhook_deliver_task, webhooks_deliver_task

        if len(ids) <= DELIVERIES_PER_TASK:
            for pk in ids:
                webhook_deliver_task.enqueue(delivery_id=pk)
            return
        for start in range(0, len(ids), DELIVERIES_PER_TASK):
            webhooks_deliver_task.enqueue(delivery_ids=ids[start : start + DELIVERIES_PER_TASK])

    transaction.on_commit(enqueue)


def delivery_redeliver(*, delivery: WebhookDelivery, user: User) -> WebhookDelivery:
    """Send an event again as a new delivery (same ``event_id`` and body), from the log. The
    caller checked ``user`` may manage the delivery's endpoint."""
    if not delivery.endpoint.is_active:
        raise Conflict(
            _("Enable the endpoint before redelivering to it."), code=ErrorCode.WRONG_STATE
        )
    now = timezone.now()
    copy = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
        created_at=now,
        next_attempt_at=now,
        redelivery_of=delivery.redelivery_of or delivery,
        requested_by=user,
    )
    _enqueue_on_commit([copy.pk])
    return copy


def _next_wait(attempts: int) -> timedelta:
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


def _send(delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> tuple[int | None, str, str]:
    """One signed POST to the address that passed the check: ``(status, error, excerpt)``."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    try:
        scheme, host, port, address = url_target(endpoint.url)
    except AddressRefused as exc:
        return None, str(exc), ""
    parts = urlsplit(endpoint.url)
    default_port = port == (443 if scheme == "https" else 80)
    headers = {
        "Host": host if default_port else f"{host}:{port}",
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: webhook_sign(endpoint.secret, body),
        "Trefpunt-Event": delivery.event,
        "Trefpunt-Event-Id": delivery.event_id,
        "Trefpunt-Delivery": str(delivery.public_id),
    }
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = urllib3.Timeout(connect=5, read=TIMEOUT_SECONDS)
    pool: urllib3.HTTPConnectionPool
    if scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=host, assert_hostname=host, timeout=timeout, maxsize=1
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, maxsize=1)
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers=headers,
            retries=False,
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        excerpt = response.read(500, decode_content=False).decode("utf-8", "replace")
        response.release_conn()
        return response.status, "", excerpt
    except urllib3.exceptions.HTTPError as exc:
        return None, type(exc).__name__ + ": " + str(exc)[:250], ""
    finally:
        pool.close()


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> bool:
    """Make the next attempt of a due delivery. Returns whether it was accepted (a 2xx
    answer); ``False`` also when it was not due or another worker had claimed it."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lte=now,
        endpoint__is_active=True,
    ).update(next_attempt_at=now + CLAIM, attempts=F("attempts") + 1)
    if not claimed:
        return False
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    started = time.monotonic()
    status, error, excerpt = _send(delivery, endpoint)
    finished = timezone.now()
    accepted = status is not None and 200 <= status < 300
    if status is not None and not accepted:
        error = _("The receiver answered HTTP %(status)d.") % {"status": status}
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        at=now,
        status_code=status,
        error=error[:300],
        response_excerpt=excerpt[:500],
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    if accepted:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED, delivered_at=finished, next_attempt_at=None
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return True
    if now - delivery.created_at >= retry_window():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, next_attempt_at=None
        )
    else:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=now + _next_wait(delivery.attempts)
        )
    _endpoint_failed(endpoint=endpoint, now=now)
    return False


def _endpoint_failed(*, endpoint: WebhookEndpoint, now: datetime) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    with transaction.atomic():
        disabled = WebhookEndpoint.objects.filter(
            pk=endpoint.pk, is_active=True, failing_since__lte=now - disable_after()
        ).update(is_active=False, disabled_at=now)
        if not disabled:
            return
        WebhookDelivery.objects.filter(
            endpoint=endpoint, status=WebhookDelivery.Status.PENDING
        ).update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
        _owners_tell(endpoint)


def _owners_tell(endpoint: WebhookEndpoint) -> None:
    from trefpunt.accounts.models import Membership, Role
    from trefpunt.community.notifications import notify

    if endpoint.organisation_id is None:
        users = [endpoint.user_id]
    else:
        users = list(
            Membership.objects.filter(
                organisation_id=endpoint.organisation_id, role__in=[Role.OWNER, Role.ADMIN]
            ).values_list("user_id", flat=True)
        )
    notify(
        users=users,
        kind=ENDPOINT_DISABLED,
        context={"url": endpoint.url, "hours": int(disable_after().total_seconds() // 3600)},
        path=f"/settings/webhooks/{endpoint.public_id}/",
    )


def webhooks_retry(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Queue the attempts that are due (the sweep). Returns how many were queued."""
    from .tasks import webhook_deliver_task

    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            Q(status=WebhookDelivery.Status.PENDING),
            next_attempt_at__lte=now,
            endpoint__is_active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        webhook_deliver_task.enqueue(delivery_id=pk)
    return len(due)
