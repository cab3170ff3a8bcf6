"""The site's name and domain, from settings, where allauth reads them.

allauth's emails greet with ``current_site.name`` and ``current_site.domain`` from
django.contrib.sites' row; left alone that says "example.com". After every migrate
(``make run`` migrates on each start) the row is set from ``SITE_NAME`` and ``SITE_URL``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings


def site_sync(**_kwargs: Any) -> None:
    from django.contrib.sites.models import Site

    domain = urlsplit(settings.SITE_URL).netloc or "localhost"
    Site.objects.update_or_create(
        pk=settings.SITE_ID, defaults={"domain": domain, "name": settings.SITE_NAME}
    )
