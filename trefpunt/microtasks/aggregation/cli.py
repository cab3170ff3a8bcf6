"""``trefpunt aggregate``: aggregate a CSV of answers from the command line.

    trefpunt aggregate ANSWERS.csv [--method mv|wmv|ds|ods] [--gold GOLD.csv] [--truth TRUTH.csv]

- ``ANSWERS.csv``: header row with ``question,worker,answer`` (other columns are ignored),
  one answer per row; ids and answers are arbitrary strings.
- ``--gold``: ``question,truth`` (``question,answer`` is accepted too) — known answers. Gold
  items anchor Dawid-Skene, score workers for weighted majority vote, and are output with
  their gold answer and confidence 1.
- ``--truth``: ``question,truth`` — accuracy over the truth questions that have answers is
  printed to standard error (truth questions without answers are counted separately).

Output on standard output: ``question,answer,confidence``, one row per question in order of
first appearance. Bad input — a missing or unreadable file, an empty file, a header without a
required column, a row with the wrong number of fields, an empty id — is reported on standard
error as ``error: FILE: line N: ...`` with exit status 2; nothing is written to standard
output in that case. Usage errors also exit with 2, as argparse does.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, Protocol

import numpy as np

from .dawid_skene import dawid_skene, one_coin_dawid_skene
from .encoding import encode_answers
from .gold import gold_scores, weights_from_gold
from .majority import agreement_weights, majority_vote, weighted_majority_vote
from .results import CategoricalResult

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

METHODS = ("mv", "wmv", "ds", "ods")


class TextSink(Protocol):
    """Where ``main`` writes: a text file, ``io.StringIO`` or Django's ``OutputWrapper``."""

    def write(self, text: str, /) -> object: ...


class InputFileError(Exception):
    """A problem with one input file, located by line number where there is one."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        where = f"{path}: line {line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class _ParserExit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse that writes to the streams ``main`` was given and never calls sys.exit."""

    def __init__(self, out: TextSink, err: TextSink, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._out = out
        self._err = err

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        super().print_help(file or self._out)

    def print_usage(self, file: SupportsWrite[str] | None = None) -> None:
        super().print_usage(file or self._err)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._err.write(message)
        raise _ParserExit(status)

    def error(self, message: str) -> NoReturn:
        self.print_usage(self._err)
        self.exit(2, f"{self.prog}: error: {message}\n")


@dataclass(frozen=True)
class _Table:
    path: str
    rows: list[tuple[str, ...]]  # the requested columns, in the requested order
    lines: list[int]  # the line each row ended on, for later error messages


def _read_table(path: str, columns: Sequence[Sequence[str]]) -> _Table:
    """Read a CSV with a header row; each entry of ``columns`` lists accepted names."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                header = next(reader, None)
                if header is None:
                    names = " and ".join("/".join(c) for c in columns)
                    raise InputFileError(path, f"empty file, expected a header row ({names})", 1)
                found = [h.strip().lower() for h in header]
                if len(set(found)) != len(found):
                    raise InputFileError(path, "header repeats a column name", reader.line_num)
                positions = []
                for accepted in columns:
                    match = [found.index(name) for name in accepted if name in found]
                    if not match:
                        raise InputFileError(
                            path,
                            f"header lacks column {' or '.join(map(repr, accepted))} "
                            f"(found: {', '.join(found)})",
                            reader.line_num,
                        )
                    positions.append(match[0])
                rows: list[tuple[str, ...]] = []
                lines: list[int] = []
                for record in reader:
                    if not record:
                        continue  # a blank line, e.g. at the end of the file
                    if len(record) != len(header):
                        raise InputFileError(
                            path,
                            f"expected {len(header)} fields, found {len(record)}",
                            reader.line_num,
                        )
                    values = tuple(record[p].strip() for p in positions)
                    for name, value in zip(columns, values, strict=True):
                        if not value:
                            raise InputFileError(path, f"empty {name[0]!r}", reader.line_num)
                    rows.append(values)
                    lines.append(reader.line_num)
            except csv.Error as exc:
                raise InputFileError(path, f"malformed CSV: {exc}", reader.line_num) from exc
    except FileNotFoundError as exc:
        raise InputFileError(path, "no such file") from exc
    except IsADirectoryError as exc:
        raise InputFileError(path, "is a directory, not a file") from exc
    except PermissionError as exc:
        raise InputFileError(path, "permission denied") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not UTF-8 text (byte {exc.start})") from exc
    return _Table(path=path, rows=rows, lines=lines)


def _known_labels(table: _Table) -> dict[str, str]:
    """question -> label; a question listed twice with different labels is an error."""
    known: dict[str, str] = {}
    for (question, label), line in zip(table.rows, table.lines, strict=True):
        if known.setdefault(question, label) != label:
            raise InputFileError(table.path, f"question {question!r} listed twice", line)
    return known


def _aggregate(
    method: str, answers: _Table, gold: dict[str, str]
) -> tuple[list[Hashable], list[Hashable | None], np.ndarray]:
    questions = [r[0] for r in answers.rows]
    item_ids = list(dict.fromkeys([*questions, *gold]))
    label_names = sorted({r[2] for r in answers.rows} | set(gold.values()))
    enc = encode_answers(
        questions,
        [r[1] for r in answers.rows],
        [r[2] for r in answers.rows],
        item_ids=item_ids,
        label_names=label_names,
    )
    item_index = enc.item_index()
    label_index = enc.label_index()
    g_items = np.asarray([item_index[q] for q in gold], dtype=np.intp)
    g_labels = np.asarray([label_index[v] for v in gold.values()], dtype=np.intp)
    sizes = {"n_items": enc.n_items, "n_workers": enc.n_workers, "n_classes": enc.n_classes}
    result: CategoricalResult
    if method in ("ds", "ods"):
        fit = dawid_skene if method == "ds" else one_coin_dawid_skene
        result = fit(
            enc.items, enc.workers, enc.labels, gold_items=g_items, gold_labels=g_labels, **sizes
        )
    elif method == "wmv":
        weights = agreement_weights(enc.items, enc.workers, enc.labels, **sizes)
        if gold:
            scores = gold_scores(
                enc.items,
                enc.workers,
                enc.labels,
                gold_items=g_items,
                gold_labels=g_labels,
                **sizes,
            )
            weights = weights_from_gold(scores, weights, enc.n_classes)
        result = weighted_majority_vote(
            enc.items, enc.workers, enc.labels, weights=weights, **sizes
        )
    else:
        result = majority_vote(enc.items, enc.workers, enc.labels, **sizes)
    labels = result.labels.copy()
    confidence = result.confidence.copy()
    labels[g_items] = g_labels  # a known answer is the answer, whatever the crowd said
    confidence[g_items] = 1.0
    return list(enc.item_ids), enc.decode_labels(labels), confidence


def main(argv: Sequence[str], stdout: TextSink, stderr: TextSink) -> int:
    """Run ``trefpunt aggregate`` with ``argv`` (without the program and sub-command names)."""
    parser = _Parser(
        stdout,
        stderr,
        prog="trefpunt aggregate",
        description="Aggregate crowd answers (question,worker,answer CSV) into one answer "
        "per question with its confidence.",
    )
    parser.add_argument("answers", metavar="ANSWERS.csv", help="question,worker,answer CSV")
    parser.add_argument("--method", choices=METHODS, default="ds", help="default: ds")
    parser.add_argument("--gold", metavar="GOLD.csv", help="question,truth CSV of known answers")
    parser.add_argument(
        "--truth", metavar="TRUTH.csv", help="question,truth CSV; prints accuracy to stderr"
    )
    try:
        args = parser.parse_args(list(argv))
    except _ParserExit as exc:
        return exc.status
    try:
        answers = _read_table(args.answers, (("question",), ("worker",), ("answer",)))
        gold: dict[str, str] = {}
        if args.gold:
            gold = _known_labels(_read_table(args.gold, (("question",), ("truth", "answer"))))
        truth: dict[str, str] | None = None
        if args.truth:
            truth = _known_labels(_read_table(args.truth, (("question",), ("truth",))))
    except InputFileError as exc:
        stderr.write(f"error: {exc}\n")
        return 2

    questions, labels, confidence = _aggregate(args.method, answers, gold)
    writer = csv.writer(stdout, lineterminator="\n")
    writer.writerow(("question", "answer", "confidence"))
    for question, label, conf in zip(questions, labels, confidence.tolist(), strict=True):
        writer.writerow((question, "" if label is None else label, f"{conf:.6f}"))

    if truth is not None:
        answer_of = dict(zip(questions, labels, strict=True))
        scored = [q for q in truth if q in answer_of]
        correct = sum(answer_of[q] == truth[q] for q in scored)
        missing = len(truth) - len(scored)
        # One write per line: Django's OutputWrapper adds a newline to every write.
        if scored:
            share = f"{100.0 * correct / len(scored):.2f}% ({correct} of {len(scored)}"
            headline = f"accuracy: {share} truth questions, method {args.method}"
        else:
            headline = f"accuracy: n/a (no truth question has answers, method {args.method}"
        stderr.write(f"{headline}; {missing} truth questions without answers not counted)\n")
    return 0
