"""``/healthz``: is this process able to serve? The database answers and the cache (Redis in
production) stores and reads a value. 200 with what was checked, or 503 naming what failed.
For load balancers and the deployment's checks; no personal data, no authentication."""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def health_view(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:
        logger.exception("health check: database")
        checks["database"] = "failing"
    try:
        probe = uuid.uuid4().hex
        cache.set("healthz", probe, 30)
        checks["cache"] = "ok" if cache.get("healthz") == probe else "failing"
    except Exception:
        logger.exception("health check: cache")
        checks["cache"] = "failing"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "failing", **checks}, status=200 if healthy else 503
    )
