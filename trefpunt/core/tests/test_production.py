"""The production settings: `check --deploy` passes with the documented variables, the
security headers are there, webhooks cannot reach private addresses, the health check,
JSON logs, and uploads on S3-compatible storage (a moto server on 127.0.0.1)."""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.test import Client, override_settings

from trefpunt.core.logging import JsonFormatter

REPO = Path(__file__).resolve().parents[3]
# The variables docs/deploy.md lists as required (placeholders, not secrets).
DOCUMENTED = {
    "DJANGO_SETTINGS_MODULE": "trefpunt.settings.production",
    "TREFPUNT_SECRET_KEY": "test-only-" + "x7Kq2Lm9Pz4Rt8Wv1Nc6Hb3Jd5Gf0Sa" * 2,
    "TREFPUNT_ALLOWED_HOSTS": "trefpunt.example",
    "TREFPUNT_SITE_URL": "https://trefpunt.example",
    "DATABASE_URL": "postgres://trefpunt@127.0.0.1:5432/trefpunt",
    "TREFPUNT_REDIS_URL": "redis://127.0.0.1:6379/3",
    "TREFPUNT_SANDBOX_WEBHOOK_SECRET": "test-only-sandbox-secret",
}


def run(code: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TREFPUNT_")}
    clean.pop("DATABASE_URL", None)
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the test suite's, for Playwright
    return subprocess.run(  # noqa: S603 - our own interpreter and entry point
        [sys.executable, *code],
        env={**clean, **DOCUMENTED, **env},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def test_check_deploy_passes_with_the_documented_variables():
    done = run(["-m", "trefpunt", "check", "--deploy", "--fail-level", "WARNING"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_check_deploy_passes_with_redis_tasks_and_s3_too():
    done = run(
        ["-m", "trefpunt", "check", "--deploy", "--fail-level", "WARNING"],
        TREFPUNT_TASK_QUEUE="redis",
        TREFPUNT_S3_BUCKET="trefpunt-media",
        TREFPUNT_S3_ENDPOINT_URL="http://127.0.0.1:8105",
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_production_refuses_to_start_without_a_secret_key():
    done = run(["-m", "trefpunt", "check"], TREFPUNT_SECRET_KEY="")
    assert done.returncode != 0
    assert "TREFPUNT_SECRET_KEY" in done.stderr


def test_documented_variables_are_the_ones_in_deploy_md():
    text = (REPO / "docs" / "deploy.md").read_text()
    for name in DOCUMENTED:
        assert name in text, name


def test_production_webhooks_refuse_private_and_loopback_addresses_whatever_the_env_says():
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from trefpunt.webhooks.addresses import AddressRefused, url_target\n"
        "print('loopback', settings.WEBHOOK_ALLOW_LOOPBACK)\n"
        "for url in ['https://10.0.0.8/h', 'https://192.168.2.1/h', 'http://127.0.0.1:9/h']:\n"
        "    try:\n"
        "        url_target(url)\n"
        "        print('accepted', url)\n"
        "    except AddressRefused:\n"
        "        print('refused', url)\n"
    )
    done = run(["-c", code], TREFPUNT_WEBHOOK_ALLOW_LOOPBACK="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:4] == [
        "loopback False",
        "refused https://10.0.0.8/h",
        "refused https://192.168.2.1/h",
        "refused http://127.0.0.1:9/h",
    ]


def test_redis_queue_runs_a_task_through_an_rq_worker():
    """``TREFPUNT_TASK_QUEUE=redis``: a task enqueued through django-tasks runs in the worker
    ``trefpunt rqworker default`` starts (django-tasks' job class, from the settings) and
    its result comes back through the backend. On a Redis database of its own, one per
    database engine, since ``make test`` runs the SQLite and PostgreSQL passes side by side."""
    from django.conf import settings

    redis = pytest.importorskip("redis")
    sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    url = f"redis://127.0.0.1:6379/{14 if sqlite else 15}"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    code = (
        "import django; django.setup()\n"
        "import django_rq\n"
        "from django.conf import settings\n"
        "from django_tasks import default_task_backend\n"
        "from trefpunt.core.tests.rq_probe import rq_probe_task\n"
        "django_rq.get_connection('default').flushdb()\n"
        "result = rq_probe_task.enqueue(21)\n"
        "worker = django_rq.get_worker('default')\n"
        "worker.work(burst=True)\n"
        "print(settings.TASKS['default']['BACKEND'], worker.job_class.__module__)\n"
        "print(default_task_backend.get_result(result.id).status, "
        "default_task_backend.get_result(result.id).return_value)\n"
        "django_rq.get_connection('default').flushdb()\n"
    )
    done = run(["-c", code], TREFPUNT_TASK_QUEUE="redis", TREFPUNT_REDIS_URL=url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split("\n")[:2] == [
        "django_tasks_rq.RQBackend django_tasks_rq.backend",
        "SUCCESSFUL 42",
    ]


def test_an_unknown_task_queue_is_refused():
    done = run(["-m", "trefpunt", "check"], TREFPUNT_TASK_QUEUE="celery")
    assert done.returncode != 0
    assert "TREFPUNT_TASK_QUEUE" in done.stderr


@pytest.fixture
def production(monkeypatch) -> ModuleType:
    """The production settings module, loaded with the documented variables."""
    for name, value in DOCUMENTED.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop("trefpunt.settings.production", None)
    module = importlib.import_module("trefpunt.settings.production")
    sys.modules.pop("trefpunt.settings.production", None)
    return module


@pytest.fixture
def production_headers(production: ModuleType) -> Iterator[None]:
    names = [
        "MIDDLEWARE",
        "CONTENT_SECURITY_POLICY",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SECURE_REDIRECT_EXEMPT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "X_FRAME_OPTIONS",
        "SECURE_REFERRER_POLICY",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    ]
    with override_settings(**{n: getattr(production, n) for n in names}):
        yield


@pytest.mark.django_db
def test_security_headers_on_every_page(production_headers):
    page = Client().get("/en/", headers={"X-Forwarded-Proto": "https"})
    assert page.status_code == 200
    policy = page["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy)
    assert script_src is not None
    assert script_src.group(1).strip() == "'self'"
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page["X-Frame-Options"] == "DENY"
    assert page["Referrer-Policy"] == "same-origin"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in page["Permissions-Policy"]


@pytest.mark.django_db
def test_plain_http_is_redirected_except_the_health_check(production_headers):
    assert Client().get("/en/").status_code == 301
    health = Client().get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_no_template_has_an_inline_script():
    """The CSP allows scripts only from our own files: a template with an inline script or
    event handler would break under it."""
    offenders = []
    for path in (REPO / "trefpunt").rglob("templates/**/*.html"):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "application/json" not in tag and "ld+json" not in tag:
                offenders.append(f"{path.relative_to(REPO)}: {tag}")
        offenders += [
            f"{path.relative_to(REPO)}: {m}" for m in re.findall(r"\son[a-z]+=\"[^\"]*\"", text)
        ]
    assert offenders == []


def test_json_logs_are_one_object_per_line():
    record = logging.makeLogRecord(
        {"name": "trefpunt.x", "levelname": "WARNING", "msg": "deposit %s", "args": ("d1",)}
    )
    record.deposit_id = 7
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert data["message"] == "deposit d1"
    assert data["level"] == "WARNING"
    assert data["deposit_id"] == 7
    assert "\n" not in line


@pytest.fixture
def s3() -> Iterator[Any]:
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    # Port 0: the system picks a free port, so the SQLite and PostgreSQL passes of
    # ``make test`` can run side by side.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        client = boto3.client(
            "s3",
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket="trefpunt-media")
        yield client
    finally:
        server.stop()


@pytest.mark.django_db
def test_uploads_land_in_the_s3_bucket(s3):
    endpoint = s3.meta.endpoint_url
    from django.core.files.storage import storages

    from trefpunt.accounts.services import profile_update
    from trefpunt.accounts.tests.factories import image_upload
    from trefpunt.contests.tests.factories import make_user
    from trefpunt.settings.s3 import s3_storages

    env = {
        "TREFPUNT_S3_BUCKET": "trefpunt-media",
        "TREFPUNT_S3_ENDPOINT_URL": endpoint,
        "TREFPUNT_S3_REGION": "us-east-1",
        "TREFPUNT_S3_ACCESS_KEY_ID": "test",
        "TREFPUNT_S3_SECRET_ACCESS_KEY": "test",
    }
    from django.conf import settings

    with override_settings(STORAGES={**settings.STORAGES, **s3_storages(env)}):
        storages._storages = {}  # type: ignore[attr-defined]
        try:
            user = make_user()
            profile = profile_update(
                profile=user.profile,
                handle=user.profile.handle,
                display_name="Sam",
                avatar=image_upload("me.png"),
            )
            storages["private"].save("deliverables/final.txt", _content(b"the final files"))
            url = profile.avatar.url
        finally:
            storages._storages = {}  # type: ignore[attr-defined]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="trefpunt-media").get("Contents", [])]
    assert any(k.startswith(f"media/avatars/{user.pk}/") for k in keys), keys
    assert "private/deliverables/final.txt" in keys
    assert url.startswith(f"{endpoint}/trefpunt-media/media/avatars/")
    body = s3.get_object(Bucket="trefpunt-media", Key="private/deliverables/final.txt")["Body"]
    assert body.read() == b"the final files"


def _content(data: bytes) -> Any:
    from django.core.files.base import ContentFile

    return ContentFile(data)
