"""Parsing uploaded items: CSV (header row) or JSON Lines (one object per line).

All or nothing: every line is checked first and the problems are reported by
line number (``line 431: missing field "text"``); a file with any problem
imports nothing. The columns the item display uses are required in every item;
image and link columns must hold http(s) URLs.

Gold items carry their known answer: in CSV as columns ``_gold.<field>`` (several
choices of a multiple-choice field separated by ``|``), in JSON Lines as an
object ``"_gold": {"<field>": value}``. The gold answer is validated against the
form like a worker's answer.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from trefpunt.core.exceptions import ValidationFailed
from trefpunt.core.text import value_problem

from .formspec import answer_clean
from .rendering import display_columns, url_is_safe

GOLD_PREFIX = "_gold."
MAX_ERRORS_SHOWN = 20
MAX_LINE_CHARS = 20_000


def max_upload_bytes() -> int:
    return int(getattr(settings, "MICROTASK_MAX_UPLOAD_BYTES", 10 * 1024 * 1024))


def max_items_per_batch() -> int:
    return int(getattr(settings, "MICROTASK_MAX_ITEMS", 100_000))


@dataclass
class ParsedItem:
    line: int
    data: dict[str, Any]
    gold_answer: dict[str, Any] | None


@dataclass
class ParsedFile:
    items: list[ParsedItem]
    columns: list[str]


class _Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.count = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.lines) < MAX_ERRORS_SHOWN:
            self.lines.append(_("line %(line)d: %(message)s") % {"line": line, "message": message})

    def raise_if_any(self) -> None:
        if not self.count:
            return
        summary = ngettext(
            "The file has %(n)d problem; nothing was imported.",
            "The file has %(n)d problems; nothing was imported.",
            self.count,
        ) % {"n": self.count}
        shown = list(self.lines)
        if self.count > len(shown):
            shown.append(_("… and %(n)d more problems.") % {"n": self.count - len(shown)})
        raise ValidationFailed(summary, fields={"file": shown})


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"file": [message]})


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise _file_error(
            _("line %(line)d: the file is not UTF-8 text. Save it as UTF-8 and upload it again.")
            % {"line": line}
        ) from None


def _detect_format(filename: str, text: str) -> str:
    lower = (filename or "").lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    return "jsonl" if text.lstrip().startswith("{") else "csv"


def _check_item(
    problems: _Problems,
    line: int,
    data: dict[str, Any],
    display: list[dict[str, str]],
) -> None:
    for entry in display:
        column = entry["column"]
        value = data.get(column)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.add(line, _("missing field “%(column)s”") % {"column": column})
        elif entry["widget"] in ("image", "link") and not url_is_safe(value):
            problems.add(
                line,
                _("field “%(column)s” must be an http:// or https:// URL") % {"column": column},
            )


def _check_gold(
    problems: _Problems, line: int, form: list[dict[str, Any]], gold: Any
) -> dict[str, Any] | None:
    if gold in (None, {}):
        return None
    try:
        cleaned = answer_clean(form, gold, partial=True)
    except ValidationFailed as exc:
        for name, messages in (exc.fields or {"_gold": [exc.message]}).items():
            problems.add(
                line,
                _("gold answer for “%(field)s”: %(message)s")
                % {"field": name, "message": messages[0]},
            )
        return None
    return cleaned or None


def _csv_header(
    reader: Any, display: list[dict[str, str]], form_names: dict[str, Any]
) -> list[str]:
    """The header line: named, unique columns, the displayed ones present, and no reserved
    ``_`` column but gold answers for fields of the form."""
    problems = _Problems()
    try:
        header = next(reader)
    except StopIteration:
        raise _file_error(_("The file is empty.")) from None
    except csv.Error as exc:
        raise _file_error(_("line 1: %(error)s") % {"error": exc}) from None
    header = [h.strip() for h in header]
    if not any(header):
        raise _file_error(_("line 1: the first line must name the columns."))
    seen: set[str] = set()
    for name in header:
        if not name:
            problems.add(1, _("a column has no name"))
        elif name in seen:
            problems.add(1, _("the column “%(column)s” appears twice") % {"column": name})
        elif name.startswith("_") and not (
            name.startswith(GOLD_PREFIX) and name[len(GOLD_PREFIX) :] in form_names
        ):
            problems.add(
                1,
                _(
                    "unknown column “%(column)s” (columns starting with '_' are reserved; "
                    "gold answers use _gold.<field name>)"
                )
                % {"column": name},
            )
        seen.add(name)
    for column in display_columns(display):
        if column not in seen:
            problems.add(1, _("missing column “%(column)s”") % {"column": column})
    problems.raise_if_any()
    return header


def _csv_gold(
    row: list[str], gold_columns: list[tuple[int, str]], form_names: dict[str, Any]
) -> dict[str, Any]:
    """A row's gold answer cells by field (several choices separated by ``|``)."""
    gold: dict[str, Any] = {}
    for index, field_name in gold_columns:
        cell = row[index].strip()
        if not cell:
            continue
        if form_names[field_name]["type"] == "multiple":
            gold[field_name] = [part.strip() for part in cell.split("|") if part.strip()]
        else:
            gold[field_name] = cell
    return gold


def _parse_csv(text: str, display: list[dict[str, str]], form: list[dict[str, Any]]) -> ParsedFile:
    problems = _Problems()
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    form_names = {f["name"]: f for f in form}
    header = _csv_header(reader, display, form_names)
    data_columns = [h for h in header if not h.startswith("_")]
    gold_columns = [(i, h[len(GOLD_PREFIX) :]) for i, h in enumerate(header) if h.startswith("_")]
    items: list[ParsedItem] = []
    limit = max_items_per_batch()
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.add(
                    line,
                    _("expected %(expected)d values, found %(found)d")
                    % {"expected": len(header), "found": len(row)},
                )
                continue
            data = {
                name: value for name, value in zip(header, row, strict=True) if name in data_columns
            }
            _check_item(problems, line, data, display)
            gold = _check_gold(problems, line, form, _csv_gold(row, gold_columns, form_names))
            items.append(ParsedItem(line=line, data=data, gold_answer=gold))
            if len(items) > limit:
                raise _file_error(_("A batch holds at most %(n)d items.") % {"n": limit})
    except csv.Error as exc:
        problems.add(max(line + 1, reader.line_num), str(exc))
    problems.raise_if_any()
    if not items:
        raise _file_error(_("The file has no items, only a header line."))
    return ParsedFile(items=items, columns=data_columns)


def _parse_jsonl(
    text: str, display: list[dict[str, str]], form: list[dict[str, Any]]
) -> ParsedFile:
    problems = _Problems()
    items: list[ParsedItem] = []
    columns: dict[str, None] = {}
    limit = max_items_per_batch()
    for line, raw_line in enumerate(text.splitlines(), start=1):
        if not raw_line.strip():
            continue
        if len(raw_line) > MAX_LINE_CHARS:
            problems.add(
                line, _("the line is longer than %(n)d characters") % {"n": MAX_LINE_CHARS}
            )
            continue
        try:
            value = json.loads(raw_line)
        except json.JSONDecodeError as exc:
            problems.add(line, _("not valid JSON (%(error)s)") % {"error": exc.msg})
            continue
        if not isinstance(value, dict):
            problems.add(line, _("each line must be a JSON object {…}"))
            continue
        if value_problem(value) is not None:
            # SQLite cannot store an unpaired surrogate and PostgreSQL's jsonb refuses it
            # and NUL: the upload would fail in the database (a 500).
            problems.add(
                line, _("holds a NUL character, an unpaired surrogate or a number too large")
            )
            continue
        gold_raw = value.pop("_gold", None)
        reserved = [k for k in value if str(k).startswith("_")]
        if reserved:
            problems.add(
                line,
                _("unknown field “%(field)s” (fields starting with '_' are reserved)")
                % {"field": reserved[0]},
            )
            continue
        if gold_raw is not None and not isinstance(gold_raw, dict):
            problems.add(line, _("“_gold” must be an object of field values"))
            continue
        _check_item(problems, line, value, display)
        gold = _check_gold(problems, line, form, gold_raw)
        for key in value:
            columns.setdefault(key, None)
        items.append(ParsedItem(line=line, data=value, gold_answer=gold))
        if len(items) > limit:
            raise _file_error(_("A batch holds at most %(n)d items.") % {"n": limit})
    problems.raise_if_any()
    if not items:
        raise _file_error(_("The file is empty."))
    return ParsedFile(items=items, columns=list(columns))


def items_parse(
    *,
    content: bytes,
    filename: str,
    display: list[dict[str, str]],
    form: list[dict[str, Any]],
) -> ParsedFile:
    """Parse a whole upload or raise ``ValidationFailed`` (field ``file``) listing the lines."""
    if len(content) > max_upload_bytes():
        raise _file_error(
            _("The file is larger than %(mb).0f MB; split it into smaller files.")
            % {"mb": max_upload_bytes() / (1024 * 1024)}
        )
    if not content.strip():
        raise _file_error(_("The file is empty."))
    text = _decode(content)
    if "\x00" in text:
        raise _file_error(_("This is not a text file; upload CSV or JSON Lines."))
    if _detect_format(filename, text) == "csv":
        return _parse_csv(text, display, form)
    return _parse_jsonl(text, display, form)
