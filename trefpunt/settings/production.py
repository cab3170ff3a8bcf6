"""Production: base settings, hardened. Refuses to start with development secrets."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, SITE_URL, env_bool, env_int

DEBUG = False
if "TREFPUNT_SECRET_KEY" not in os.environ:
    raise ImproperlyConfigured("Set TREFPUNT_SECRET_KEY in production.")
if "TREFPUNT_SANDBOX_WEBHOOK_SECRET" not in os.environ:
    raise ImproperlyConfigured("Set TREFPUNT_SANDBOX_WEBHOOK_SECRET in production.")

SESSION_COOKIE_SECURE = SITE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("TREFPUNT_SSL_REDIRECT", SESSION_COOKIE_SECURE)
SECURE_HSTS_SECONDS = 31536000 if SESSION_COOKIE_SECURE else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Real WSGI servers reuse their threads, so keep database connections open between requests.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("TREFPUNT_DB_CONN_MAX_AGE", 60)
