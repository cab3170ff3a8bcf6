"""Production: base settings, hardened. Refuses to start without the secrets and services a
real deployment needs. Every variable is described in docs/deploy.md.

- web: gunicorn (several workers) behind a TLS-terminating reverse proxy that sets
  ``X-Forwarded-Proto``; static files served by whitenoise (compressed, cache-busting names)
- PostgreSQL (``DATABASE_URL``), Redis (``TREFPUNT_REDIS_URL``) for the cache, sessions and
  rate limits, shared by every process
- background work on the database queue (``db_worker``) by default, or on Redis through RQ
  (``TREFPUNT_TASK_QUEUE=redis``, ``trefpunt rqworker default``); one ``trefpunt scheduler``
- uploads on S3-compatible storage when ``TREFPUNT_S3_BUCKET`` is set
- JSON logs on stdout, optional Sentry (``TREFPUNT_SENTRY_DSN``)
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, INSTALLED_APPS, MIDDLEWARE, PAYMENT_PROVIDER, env_int
from .s3 import media_origin, s3_storages


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"Set {name} in production (see docs/deploy.md).")
    return value


DEBUG = False
SECRET_KEY = _required("TREFPUNT_SECRET_KEY")
ALLOWED_HOSTS = [h.strip() for h in _required("TREFPUNT_ALLOWED_HOSTS").split(",") if h.strip()]
SITE_URL = _required("TREFPUNT_SITE_URL").rstrip("/")
CSRF_TRUSTED_ORIGINS = [SITE_URL]
if not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("TREFPUNT_SITE_URL must be the site's https:// address.")
_required("DATABASE_URL")
if PAYMENT_PROVIDER == "sandbox":
    _required("TREFPUNT_SANDBOX_WEBHOOK_SECRET")
elif PAYMENT_PROVIDER == "mollie":
    _required("TREFPUNT_MOLLIE_API_KEY")

# --- HTTPS and headers --------------------------------------------------------------------
# The proxy terminates TLS and says so in X-Forwarded-Proto (it must overwrite, never pass
# on, a client's header). Health checks arrive over plain HTTP from the load balancer.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("TREFPUNT_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
MIDDLEWARE = [
    MIDDLEWARE[0],  # SecurityMiddleware first
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "trefpunt.core.security.SecurityHeadersMiddleware",
    *MIDDLEWARE[1:],
]

# --- database, cache, sessions -------------------------------------------------------------
# Real WSGI servers reuse their threads, so keep database connections open between requests.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("TREFPUNT_DB_CONN_MAX_AGE", 60)
REDIS_URL = _required("TREFPUNT_REDIS_URL")
CACHES = {"default": {"BACKEND": "trefpunt.core.cache.RedisCache", "LOCATION": REDIS_URL}}
# Sessions in Redis: any web process reads any session, and nothing is written to
# PostgreSQL per request. (Redis should persist; a flushed Redis logs everyone out.)
SESSION_ENGINE = "django.contrib.sessions.backends.cache"

# --- background work -------------------------------------------------------------------------
# The database queue needs nothing more than PostgreSQL and is transactional with the
# work that enqueues it; RQ on Redis takes the polling load off PostgreSQL when many
# workers serve a large site (docs/deploy.md, "Background work").
TASK_QUEUE = os.environ.get("TREFPUNT_TASK_QUEUE", "database")
if TASK_QUEUE not in {"database", "redis"}:
    raise ImproperlyConfigured("TREFPUNT_TASK_QUEUE is 'database' or 'redis'.")
if TASK_QUEUE == "redis":
    INSTALLED_APPS = [*INSTALLED_APPS, "django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
    # Workers must run django-tasks' job class (it calls the task, records its result):
    # with plain rq jobs ``trefpunt rqworker default`` fails every task.
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}

# --- files ---------------------------------------------------------------------------------
_media = ""
if os.environ.get("TREFPUNT_S3_BUCKET"):
    STORAGES = {
        **s3_storages(os.environ),
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    _media = " " + media_origin(os.environ)
else:
    STORAGES = {
        **STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
STATIC_ROOT = Path(os.environ.get("TREFPUNT_STATIC_ROOT", str(STATIC_ROOT)))  # noqa: F405

# No inline scripts anywhere; styles only from our own files.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    f"img-src 'self' data:{_media}; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# --- outgoing webhooks: public addresses only, whatever the environment says -------------
WEBHOOK_ALLOW_LOOPBACK = False

# --- logs and errors -------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "trefpunt.core.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TREFPUNT_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
if os.environ.get("TREFPUNT_SENTRY_DSN"):
    import sentry_sdk

    sentry_sdk.init(
        dsn=os.environ["TREFPUNT_SENTRY_DSN"],
        environment=os.environ.get("TREFPUNT_SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(os.environ.get("TREFPUNT_SENTRY_TRACES", "0")),
        send_default_pii=False,  # no emails, IPs or cookies leave the platform
    )
