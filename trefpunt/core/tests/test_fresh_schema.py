"""The first run's schema in one step (core.fresh_schema) equals what all migrations build.

The reference is the test database, which pytest-django builds by running every migration.
The fresh schema is built by a separate ``trefpunt`` process into an empty file (as
``make run`` does), and both files are read with plain sqlite3: tables, columns (with
generated ones), indexes (with partial conditions), foreign keys, named constraints,
triggers, the migrations recorded and the rows ``post_migrate`` writes.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _norm(sql: str | None) -> str:
    return re.sub(r"\s+", " ", (sql or "").replace('"', "")).strip()


def _index(db: sqlite3.Connection, table: str, row: tuple[Any, ...]) -> tuple[Any, ...]:
    _seq, name, unique, origin, partial = row
    columns = tuple(r[2] for r in db.execute(f"PRAGMA index_info('{name}')"))
    where = ""
    if partial:
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
        where = _norm(sql.split(" WHERE ", 1)[1])
    # SQLite names the indexes of inline UNIQUE constraints by their position.
    key = columns if name.startswith("sqlite_autoindex_") else name
    return (key, unique, origin, columns, where)


def _schema(path: str) -> dict[str, Any]:
    db = sqlite3.connect(path)
    try:
        tables = sorted(
            r[0]
            for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0] != "sqlite_sequence"
        )
        schema: dict[str, Any] = {}
        for table in tables:
            sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
            schema[table] = {
                "columns": sorted(
                    tuple(r[1:]) for r in db.execute(f"PRAGMA table_xinfo('{table}')")
                ),
                "indexes": sorted(
                    (_index(db, table, r) for r in db.execute(f"PRAGMA index_list('{table}')")),
                    key=repr,
                ),
                "foreign_keys": sorted(
                    tuple(r[2:]) for r in db.execute(f"PRAGMA foreign_key_list('{table}')")
                ),
                "constraints": sorted(re.findall(r'CONSTRAINT "?(\w+)"?', sql[0] or "")),
                "virtual": _norm(sql[0]) if "VIRTUAL" in (sql[0] or "") else "",
            }
        schema["triggers"] = sorted(
            _norm(r[0]) for r in db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
        )
        schema["migrations"] = sorted(db.execute("SELECT app, name FROM django_migrations"))
        schema["content_types"] = sorted(
            db.execute("SELECT app_label, model FROM django_content_type")
        )
        schema["permissions"] = sorted(
            db.execute(
                "SELECT c.app_label, c.model, p.codename FROM auth_permission p "
                "JOIN django_content_type c ON c.id = p.content_type_id"
            )
        )
        schema["sites"] = sorted(db.execute("SELECT domain, name FROM django_site"))
        return schema
    finally:
        db.close()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the fresh schema is SQLite's")
def test_fresh_schema_equals_the_migrated_schema(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["TREFPUNT_SQLITE_PATH"] = str(fresh)
    env["TREFPUNT_VAR_DIR"] = str(tmp_path)
    code = (
        "import django; django.setup(); from trefpunt.core import fresh_schema; "
        "assert fresh_schema.is_empty_sqlite(); fresh_schema.migrate_or_create()"
    )
    env["DJANGO_SETTINGS_MODULE"] = "trefpunt.settings.base"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)  # noqa: S603
    migrated = _schema(str(connection.settings_dict["NAME"]))
    built = _schema(str(fresh))
    assert len(migrated["migrations"]) > 50
    assert sorted(built) == sorted(migrated)
    for key in migrated:
        assert built[key] == migrated[key], key
