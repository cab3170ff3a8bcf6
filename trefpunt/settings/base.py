"""Settings for every environment, read from ``TREFPUNT_*`` and ``DATABASE_URL``.

Local defaults are safe and need nothing: SQLite in WAL mode under ``var/``,
emails written to files under ``var/mail``, the sandbox payment provider.
``production.py`` only hardens; ``test.py`` only speeds up.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent
VAR_DIR = Path(os.environ.get("TREFPUNT_VAR_DIR", REPO_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Local development only; production.py refuses to start without a real one.
SECRET_KEY = os.environ.get("TREFPUNT_SECRET_KEY", "insecure-local-development-key-change-me")
DEBUG = env_bool("TREFPUNT_DEBUG", True)
ALLOWED_HOSTS = os.environ.get("TREFPUNT_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
# The address people reach the site at: every absolute link (emails, feeds, the API) starts
# with it. ``make run PORT=…`` sets it to the port it serves on.
SITE_URL = os.environ.get("TREFPUNT_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The name emails, page titles and the sign-up pages call the site by (also written to
# django.contrib.sites' row after every migrate, for allauth's emails).
SITE_NAME = os.environ.get("TREFPUNT_SITE_NAME", "Trefpunt")
# The hour (site time zone) at which the daily summary of notifications goes out.
NOTIFICATION_DIGEST_HOUR = env_int("TREFPUNT_NOTIFICATION_DIGEST_HOUR", 7)
# Messages one person may send per ten minutes; accounts younger than NEW_ACCOUNT_DAYS have
# a link-heavy first message held for staff.
MESSAGE_RATE_LIMIT = env_int("TREFPUNT_MESSAGE_RATE_LIMIT", 30)
NEW_ACCOUNT_DAYS = env_int("TREFPUNT_NEW_ACCOUNT_DAYS", 3)
CSRF_TRUSTED_ORIGINS = [SITE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "django.contrib.sitemaps",
    "django.forms",
    "template_partials",
    "ninja",  # serves Swagger UI from its own static files (the docs work offline)
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "trefpunt.core",
    "trefpunt.accounts",
    "trefpunt.ledger",
    "trefpunt.contests",
    "trefpunt.microtasks",
    "trefpunt.ideas",
    "trefpunt.projects",
    "trefpunt.community",
    "trefpunt.moderation",
    "trefpunt.webhooks",
    "trefpunt.privacy",
    "trefpunt.discovery",  # last: it indexes what every other app registers in its search.py
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "trefpunt.core.middleware.LanguageCookieMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "trefpunt.core.middleware.UserLanguageMiddleware",
    "trefpunt.core.middleware.FormAddressPageMiddleware",
    "trefpunt.core.middleware.ApiRequestLimitsMiddleware",
    "trefpunt.core.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "trefpunt.urls"
WSGI_APPLICATION = "trefpunt.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "trefpunt.core.context_processors.site",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (or anything dj-database-url understands);
# without it the embedded SQLite database lives in var/.
if os.environ.get("DATABASE_URL"):
    # Persistent connections only where the server reuses its threads (production sets
    # TREFPUNT_DB_CONN_MAX_AGE); the development server starts a thread per request and
    # would keep one idle connection per finished thread.
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=env_int("TREFPUNT_DB_CONN_MAX_AGE", 0),
            conn_health_checks=True,
        )
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("TREFPUNT_SQLITE_PATH", str(VAR_DIR / "trefpunt.sqlite3")),
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the
                # write lock at BEGIN so two writers queue instead of deadlocking
                # on lock upgrade; busy_timeout is how long they queue.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The workers' hot statements (claim, answer) run as prepared statements on PostgreSQL
# (``core.db.prepared_cursor``): parsed and planned once per connection. Turn off behind a
# pooler that cannot keep them (PgBouncer before 1.21 in transaction mode).
DB_PREPARED_STATEMENTS = env_bool("TREFPUNT_DB_PREPARED", True)
if DB_PREPARED_STATEMENTS and "postgresql" in DATABASES["default"]["ENGINE"]:
    # Django turns psycopg's prepared statements off (``prepare_threshold`` None), and then
    # psycopg ignores ``execute(..., prepare=True)`` too: every "prepared" statement was
    # parsed and planned again on each run. Any number turns them back on; it touches only
    # server-binding cursors (``prepared_cursor``), as Django's own bind on the client and
    # never prepare.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5

# --- Cache ------------------------------------------------------------------
# allauth's rate limits live in the cache: with more than one process they must share
# it, so production points TREFPUNT_REDIS_URL at Redis. Locally one process is enough.
if os.environ.get("TREFPUNT_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "trefpunt.core.cache.RedisCache",
            "LOCATION": os.environ["TREFPUNT_REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Accounts -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "discovery:start"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("TREFPUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, stated so they are visibly on.
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
ACCOUNT_ADAPTER = "trefpunt.accounts.adapter.AccountAdapter"
# Read per request (unlike ACCOUNT_SIGNUP_FORM_CLASS), so our subclass of allauth's form
# does not import-loop: adds the display name and a field error for a taken email.
ACCOUNT_FORMS = {"signup": "trefpunt.accounts.forms.SignupForm"}
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Trefpunt"

# --- Email ----------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "TREFPUNT_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = os.environ.get("TREFPUNT_FROM_EMAIL", "Trefpunt <noreply@localhost>")
EMAIL_HOST = os.environ.get("TREFPUNT_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("TREFPUNT_EMAIL_PORT", 25)

# --- Internationalisation --------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [REPO_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Amsterdam"

# --- Static and uploaded files -------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("TREFPUNT_MEDIA_ROOT", VAR_DIR / "media"))
# Private files (entry originals, deliverables) never get a public URL; they are
# streamed by permission-checked views from this storage.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("TREFPUNT_PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MAX_UPLOAD_BYTES = env_int("TREFPUNT_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
MAX_AVATAR_BYTES = env_int("TREFPUNT_MAX_AVATAR_BYTES", 5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Background tasks -----------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TREFPUNT_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- Money ----------------------------------------------------------------
DEFAULT_CURRENCY = "EUR"
PAYMENT_PROVIDER = os.environ.get("TREFPUNT_PAYMENT_PROVIDER", "sandbox")
# Shared secret of the sandbox provider's signed webhooks.
SANDBOX_WEBHOOK_SECRET = os.environ.get(
    "TREFPUNT_SANDBOX_WEBHOOK_SECRET", "local-sandbox-webhook-secret"
)
# Mollie (TREFPUNT_PAYMENT_PROVIDER=mollie): the API key (test_… or live_…) and, for tests
# only, another API address (empty: Mollie's own).
MOLLIE_API_KEY = os.environ.get("TREFPUNT_MOLLIE_API_KEY", "")
MOLLIE_API_ENDPOINT = os.environ.get("TREFPUNT_MOLLIE_API_ENDPOINT", "")
MIN_DEPOSIT_CENTS = env_int("TREFPUNT_MIN_DEPOSIT_CENTS", 500)
MAX_DEPOSIT_CENTS = env_int("TREFPUNT_MAX_DEPOSIT_CENTS", 10_000_000)
MIN_PAYOUT_CENTS = env_int("TREFPUNT_MIN_PAYOUT_CENTS", 1000)
MAX_PAYOUT_CENTS = env_int("TREFPUNT_MAX_PAYOUT_CENTS", 10_000_000)
# Fees in basis points (1/100 of a percent), per mode and side.
FEES_BPS = {
    "contest": {
        "client": env_int("TREFPUNT_CONTEST_CLIENT_FEE_BPS", 1000),
        "crowd": env_int("TREFPUNT_CONTEST_CROWD_FEE_BPS", 500),
    },
    "microtask": {
        "client": env_int("TREFPUNT_MICROTASK_CLIENT_FEE_BPS", 2000),
        "crowd": env_int("TREFPUNT_MICROTASK_CROWD_FEE_BPS", 0),
    },
    "ideas": {
        "client": env_int("TREFPUNT_IDEAS_CLIENT_FEE_BPS", 1000),
        "crowd": env_int("TREFPUNT_IDEAS_CROWD_FEE_BPS", 0),
    },
    "project": {
        "client": env_int("TREFPUNT_PROJECT_CLIENT_FEE_BPS", 500),
        "crowd": env_int("TREFPUNT_PROJECT_CROWD_FEE_BPS", 1000),
    },
}

# --- Security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Production keeps sessions in Redis (``production.py``); a bench serving base settings
# chooses the same with this.
SESSION_ENGINE = os.environ.get("TREFPUNT_SESSION_ENGINE", "django.contrib.sessions.backends.db")
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TREFPUNT_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

FORM_RENDERER = "trefpunt.core.forms.FormRenderer"

# --- Microtasks -------------------------------------------------------------
# Platform minimum effective hourly pay (cents); a batch paying less after the first
# MICROTASK_FAIR_PAY_MIN_ANSWERS answers is paused until the client raises the reward.
MICROTASK_MIN_HOURLY_CENTS = env_int("TREFPUNT_MIN_HOURLY_CENTS", 1400)
MICROTASK_FAIR_PAY_MIN_ANSWERS = env_int("TREFPUNT_MICROTASK_FAIR_PAY_MIN_ANSWERS", 20)
# Answers not reviewed within this many days are approved; appeals decided within these.
MICROTASK_REVIEW_DAYS = env_int("TREFPUNT_MICROTASK_REVIEW_DAYS", 3)
MICROTASK_APPEAL_DAYS = env_int("TREFPUNT_MICROTASK_APPEAL_DAYS", 7)
MICROTASK_MAX_UPLOAD_BYTES = env_int("TREFPUNT_MICROTASK_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
MICROTASK_MAX_ITEMS = env_int("TREFPUNT_MICROTASK_MAX_ITEMS", 100_000)
# The full aggregation fit of a batch runs every this many answers (after a doubling start;
# a large batch every tenth of the answers its last fit saw, when that is more).
MICROTASK_REFIT_EVERY = env_int("TREFPUNT_MICROTASK_REFIT_EVERY", 200)
# Extra PostgreSQL connections a full fit reads and writes its items on (0: its own only).
MICROTASK_FIT_WRITERS = env_int("TREFPUNT_MICROTASK_FIT_WRITERS", 2)

# --- Outgoing webhooks -------------------------------------------------------
# Deliveries go to public addresses only; this admits loopback too (tests, local receivers).
WEBHOOK_ALLOW_LOOPBACK = env_bool("TREFPUNT_WEBHOOK_ALLOW_LOOPBACK", False)
# A delivery is retried (exponential backoff) this long; an endpoint failing this long is
# disabled and its owners told.
WEBHOOK_RETRY_HOURS = env_int("TREFPUNT_WEBHOOK_RETRY_HOURS", 24)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("TREFPUNT_WEBHOOK_DISABLE_AFTER_HOURS", 24)

# --- Idea calls -------------------------------------------------------------
# Minutes in which a comment's author may still edit it.
IDEAS_COMMENT_EDIT_MINUTES = env_int("TREFPUNT_IDEAS_COMMENT_EDIT_MINUTES", 15)
