"""Test settings: only what makes the suite fast and isolated."""

import os
import tempfile
from pathlib import Path

_tmp = Path(tempfile.mkdtemp(prefix="trefpunt-test-"))
os.environ.setdefault("TREFPUNT_VAR_DIR", str(_tmp))

from .base import *  # noqa: E402, F403
from .base import DATABASES, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = _tmp / "media"
PRIVATE_MEDIA_ROOT = _tmp / "private"
STORAGES = {
    **STORAGES,
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["NAME"] = str(_tmp / "test.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": str(_tmp / "test.sqlite3")}
WEBHOOK_ALLOW_LOOPBACK = True  # the tests' receivers listen on 127.0.0.1
ACCOUNT_RATE_LIMITS = False  # type: ignore[assignment]
LOGGING = {"version": 1, "disable_existing_loggers": False}
