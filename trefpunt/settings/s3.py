"""Uploads on S3-compatible object storage (AWS S3, MinIO, Ceph, Scaleway, …) through
django-storages: public files (avatars, thumbnails, previews) in one place, private ones
(entry originals, deliverables, attachments) under a separate prefix or bucket that is
never public — our views stream them after checking permission."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def s3_storages(env: Mapping[str, str]) -> dict[str, Any]:
    """``STORAGES`` entries ``default`` and ``private`` from ``TREFPUNT_S3_*`` variables."""
    common: dict[str, Any] = {
        "bucket_name": env["TREFPUNT_S3_BUCKET"],
        "endpoint_url": env.get("TREFPUNT_S3_ENDPOINT_URL") or None,
        "region_name": env.get("TREFPUNT_S3_REGION") or None,
        "access_key": env.get("TREFPUNT_S3_ACCESS_KEY_ID") or None,
        "secret_key": env.get("TREFPUNT_S3_SECRET_ACCESS_KEY") or None,
        "file_overwrite": False,
        "default_acl": None,  # the bucket's policy decides who reads
    }
    public = {
        **common,
        "location": "media",
        "custom_domain": env.get("TREFPUNT_S3_PUBLIC_DOMAIN") or None,
        # Public files have stable URLs (cacheable pages) when the bucket or CDN serves
        # ``media/`` publicly; otherwise they are links signed for an hour.
        "querystring_auth": env.get("TREFPUNT_S3_PUBLIC_READ", "1") not in {"1", "true", "yes"},
        "querystring_expire": 3600,
    }
    private = {
        **common,
        "bucket_name": env.get("TREFPUNT_S3_PRIVATE_BUCKET") or common["bucket_name"],
        "location": "private",
        "querystring_auth": True,
    }
    backend = "storages.backends.s3.S3Storage"
    return {
        "default": {"BACKEND": backend, "OPTIONS": public},
        "private": {"BACKEND": backend, "OPTIONS": private},
    }


def media_origin(env: Mapping[str, str]) -> str:
    """Where public media are served from, for the Content-Security-Policy's img-src."""
    if env.get("TREFPUNT_S3_PUBLIC_DOMAIN"):
        return "https://" + env["TREFPUNT_S3_PUBLIC_DOMAIN"]
    if env.get("TREFPUNT_S3_ENDPOINT_URL"):
        return env["TREFPUNT_S3_ENDPOINT_URL"].rstrip("/")
    return "https://*.amazonaws.com"
