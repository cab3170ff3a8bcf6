"""What every bench needs: a local PostgreSQL database, Django set up on it, percentiles and
the machine's load (benches run on shared machines; the load says how much to trust them)."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def database_ensure(url: str) -> None:
    """Create the bench database when it does not exist yet (127.0.0.1 only)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.hostname not in LOCAL_HOSTS:
        sys.exit("DATABASE_URL must point at 127.0.0.1; this bench stays local.")
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def django_setup(url: str, *, migrate: bool = True) -> None:
    """Django on ``url``, migrated (unless ``migrate`` is off: a bench's worker processes
    start on a database their parent migrated), with tasks run where they are enqueued (the
    answer path's inline fits: in production the task worker runs them on the same
    machine)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trefpunt.settings.base")
    # As served: DEBUG on wraps every cursor to log its statements (and more).
    os.environ.setdefault("TREFPUNT_DEBUG", "0")
    os.environ.setdefault("TREFPUNT_LOG_LEVEL", "WARNING")
    os.environ.setdefault("TREFPUNT_EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
    os.environ.setdefault(
        "TREFPUNT_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
    )
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"
