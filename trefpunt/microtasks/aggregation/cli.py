"""``trefpunt aggregate``: aggregate a CSV of answers from the command line.

See ``HELP`` below (printed by ``--help``) for the options, the output columns, what the
confidence means and the exit statuses; ``docs/aggregation.md`` for the methods.

The answers file is parsed as a stream: each row's question, worker and answer are turned
into integer codes on the fly (one dictionary per column of distinct values, three compact
integer arrays), so memory grows with the number of answers times 12 bytes plus the distinct
ids, not with Python objects per row.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import os
import sys
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, NoReturn, Protocol

import numpy as np

from ._arrays import count_repeats
from .adaptive import DEFAULT_TARGET
from .dawid_skene import dawid_skene, one_coin_dawid_skene
from .gold import gold_scores, weights_from_gold
from .majority import agreement_weights, majority_vote, weighted_majority_vote
from .numeric import median
from .replay import replay_adaptive
from .results import CategoricalResult

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

CATEGORICAL = ("ds", "mv", "wmv", "ods")
METHODS = ("auto", *CATEGORICAL, "numeric")
# All-number answers with more distinct values than this (or any non-whole number) look
# like measurements rather than category codes such as 1-5 grades.
NUMERIC_DISTINCT = 20

HELP = """\
Aggregate crowd answers into one answer per question, with its confidence.

input:
  ANSWERS.csv       a header row naming the columns 'question', 'worker' and 'answer' (any
                    order, other columns ignored), then one answer per row; ids and answers
                    are arbitrary text. '-' reads standard input. Fields are separated by
                    commas unless --sep says otherwise; quoting as in RFC 4180.

methods (--method):
  auto (default)    ds; but when every answer is a number with more than 20 distinct values
                    or a fraction, numeric (a warning says so). When every answer is a
                    number they are compared as numbers: 1, 1.0 and 01 are one answer.
  ds                hierarchical Dawid-Skene: learns each worker's confusion matrix, shrunk
                    towards the crowd's for workers with few answers (docs/aggregation.md).
  mv                majority vote.
  wmv               weighted majority vote (weights from agreement, or from --gold).
  ods               one-coin Dawid-Skene (one skill per worker).
  numeric           the median of the answers (which must all be numbers).

  A worker who answered the same question more than once has one vote there, shared by
  their answers (a warning gives the count of repeated answers).

output (standard output), one row per answered question in order of first appearance:
  question,answer,confidence,tied        categorical methods
  question,answer,spread,answers         numeric (spread = median absolute deviation)
  confidence        the method's probability that the answer is right: the posterior
                    probability for ds and ods, the (weighted) vote share for mv and wmv.
                    With --replay-adaptive, the calibrated confidence the stopping rule uses.
  tied              1 when two or more answers scored the same and the first in sorted
                    order was taken, else 0.
  Gold questions are written with their gold answer and confidence 1; a gold question
  nobody answered is not written.

exit status:
  0  success (also when the reader closes the pipe early, as 'head' does)
  2  bad input (a message on standard error names the file and line) or bad usage
"""


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


@contextlib.contextmanager
def _text(path: str, stdin: IO[str] | None) -> Iterator[IO[str]]:
    if path == "-":
        source = stdin if stdin is not None else sys.stdin
        yield source
        return
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            yield handle
    except FileNotFoundError as exc:
        raise InputFileError(path, "no such file") from exc
    except IsADirectoryError as exc:
        raise InputFileError(path, "is a directory, not a file") from exc
    except PermissionError as exc:
        raise InputFileError(path, "permission denied") from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not UTF-8 text (byte {exc.start})") from exc


def _header_positions(
    path: str, header: list[str] | None, columns: Sequence[Sequence[str]], sep: str, line: int
) -> list[int]:
    names = " and ".join("/".join(c) for c in columns)
    if header is None:
        raise InputFileError(path, f"empty file, expected a header row ({names})", 1)
    found = [h.strip().lower().lstrip("\ufeff") for h in header]
    if len(set(found)) != len(found):
        raise InputFileError(path, "header repeats a column name", line)
    positions = []
    for accepted in columns:
        match = [found.index(name) for name in accepted if name in found]
        if not match:
            hint = ""
            joined = sep.join(header)
            for other, shown in ((";", ";"), ("\t", "\\t"), (",", ","), ("|", "|")):
                if other != sep and other in joined:
                    hint = f"; the header looks separated by '{shown}': try --sep '{shown}'"
                    break
            raise InputFileError(
                path,
                f"header lacks column {' or '.join(map(repr, accepted))} "
                f"(found: {', '.join(found)}){hint}",
                line,
            )
        positions.append(match[0])
    return positions


def _rows(
    path: str, handle: IO[str], columns: Sequence[Sequence[str]], sep: str
) -> Iterator[tuple[list[str], int]]:
    """The requested columns of each data row (stripped, non-empty) and its line number."""
    reader = csv.reader(handle, delimiter=sep, strict=True)
    try:
        header = next(reader, None)
        positions = _header_positions(path, header, columns, sep, reader.line_num)
        assert header is not None
        width = len(header)
        for record in reader:
            if not record:
                continue  # a blank line, e.g. at the end of the file
            if len(record) != width:
                raise InputFileError(
                    path, f"expected {width} fields, found {len(record)}", reader.line_num
                )
            values = [record[p].strip() for p in positions]
            for accepted, value in zip(columns, values, strict=True):
                if not value:
                    raise InputFileError(path, f"empty {accepted[0]!r}", reader.line_num)
            yield values, reader.line_num
    except csv.Error as exc:
        raise InputFileError(path, f"malformed CSV: {exc}", reader.line_num) from exc
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not UTF-8 text (byte {exc.start})") from exc


@dataclass
class _Answers:
    items: np.ndarray
    workers: np.ndarray
    labels: np.ndarray  # codes into ``label_names``
    questions: list[str]  # item code -> question id, in order of first appearance
    label_names: list[str]
    n_workers: int


def _read_answers(path: str, sep: str, stdin: IO[str] | None) -> _Answers:
    """Stream the answers into integer codes (see the module docstring)."""
    question_code: dict[str, int] = {}
    worker_code: dict[str, int] = {}
    label_code: dict[str, int] = {}
    items, workers, labels = array("i"), array("i"), array("i")
    columns = (("question",), ("worker",), ("answer",))
    with _text(path, stdin) as handle:
        for (question, worker, answer), _line in _rows(path, handle, columns, sep):
            items.append(question_code.setdefault(question, len(question_code)))
            workers.append(worker_code.setdefault(worker, len(worker_code)))
            labels.append(label_code.setdefault(answer, len(label_code)))
    return _Answers(
        items=_to_intp(items),
        workers=_to_intp(workers),
        labels=_to_intp(labels),
        questions=list(question_code),
        label_names=list(label_code),
        n_workers=len(worker_code),
    )


def _to_intp(codes: array[int]) -> np.ndarray:
    """The compact 4-byte codes as the methods' index arrays (one copy, then freed)."""
    if not codes:
        return _empty()
    return np.frombuffer(codes, dtype=np.intc).astype(np.intp)


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=np.intp)


def _known(
    path: str, sep: str, stdin: IO[str] | None, columns: Sequence[Sequence[str]]
) -> dict[str, str]:
    """question -> label; a question listed twice with different labels is an error."""
    known: dict[str, str] = {}
    with _text(path, stdin) as handle:
        for (question, label), line in _rows(path, handle, columns, sep):
            if known.setdefault(question, label) != label:
                raise InputFileError(path, f"question {question!r} listed twice", line)
    return known


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _number_name(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


@dataclass
class _Labels:
    """The label table the methods use: names in sorted order, and how to map a raw answer."""

    names: list[str]
    code: dict[str, int]
    numeric: bool

    def key(self, raw: str) -> str:
        if self.numeric:
            value = _number(raw)
            if value is not None:
                return _number_name(value)
        return raw


def _label_table(raw_names: Sequence[str], extra: Sequence[str]) -> _Labels:
    """Sorted label names; when every answer is a number, numbers compared as numbers."""
    values = [_number(n) for n in raw_names]
    numeric = bool(raw_names) and all(v is not None for v in values)
    probe = _Labels([], {}, numeric)
    keys = {probe.key(n) for n in [*raw_names, *extra]}
    if numeric:

        def order(name: str) -> tuple[int, float, str]:
            value = _number(name)
            return (0, value, name) if value is not None else (1, 0.0, name)

        names = sorted(keys, key=order)
    else:
        names = sorted(keys)
    return _Labels(names, {n: k for k, n in enumerate(names)}, numeric)


def _choose_method(requested: str, answers: _Answers, err: TextSink) -> str:
    if requested != "auto":
        return requested
    values = [_number(n) for n in answers.label_names]
    if answers.label_names and all(v is not None for v in values):
        numbers = [v for v in values if v is not None]
        fractional = any(not v.is_integer() for v in numbers)
        if fractional or len(set(numbers)) > NUMERIC_DISTINCT:
            err.write(
                "warning: every answer is a number and they look like measurements: using "
                "--method numeric (the median); pass --method ds to treat them as categories\n"
            )
            return "numeric"
        err.write(
            f"warning: every answer is a number ({len(set(numbers))} distinct values): "
            "treated as categories, compared as numbers; pass --method numeric for the median\n"
        )
    return "ds"


def _categorical(
    method: str,
    answers: _Answers,
    table: _Labels,
    gold: dict[str, int],
    item_of: dict[str, int],
) -> CategoricalResult:
    remap = np.asarray([table.code[table.key(n)] for n in answers.label_names], dtype=np.intp)
    labels = remap[answers.labels] if answers.labels.size else _empty()
    sizes = {
        "n_items": len(answers.questions),
        "n_workers": answers.n_workers,
        "n_classes": len(table.names),
    }
    g_items = np.asarray([item_of[q] for q in gold], dtype=np.intp)
    g_labels = np.asarray(list(gold.values()), dtype=np.intp)
    it, wk = answers.items, answers.workers
    if method in ("ds", "ods"):
        fit = dawid_skene if method == "ds" else one_coin_dawid_skene
        return fit(it, wk, labels, gold_items=g_items, gold_labels=g_labels, **sizes)
    if method == "wmv":
        weights = agreement_weights(it, wk, labels, **sizes)
        if gold:
            scores = gold_scores(it, wk, labels, gold_items=g_items, gold_labels=g_labels, **sizes)
            weights = weights_from_gold(scores, weights, sizes["n_classes"])
        return weighted_majority_vote(it, wk, labels, weights=weights, **sizes)
    return majority_vote(it, wk, labels, **sizes)


class _Closed(Exception):
    """The reader of standard output went away."""


def _write_rows(out: TextSink, rows: Iterator[Sequence[object]]) -> None:
    """Write CSV rows in chunks; a closed pipe ends the writing quietly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    try:
        for n, row in enumerate(rows, 1):
            writer.writerow(row)
            if n % 4096 == 0:
                out.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
        out.write(buffer.getvalue())
        flush = getattr(out, "flush", None)
        if flush is not None:
            flush()
    except BrokenPipeError as exc:
        raise _Closed from exc


def _silence_stdout(out: TextSink) -> None:
    """After a closed pipe: point the descriptor at /dev/null so the interpreter's final
    flush cannot raise (and print) another BrokenPipeError."""
    fileno = getattr(out, "fileno", None)
    if fileno is None:
        return
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fileno())


def _parser(stdout: TextSink, stderr: TextSink) -> _Parser:
    parser = _Parser(
        stdout,
        stderr,
        prog="trefpunt aggregate",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "answers", metavar="ANSWERS.csv", help="question,worker,answer CSV; - for stdin"
    )
    parser.add_argument(
        "--method", choices=METHODS, default="auto", help="default: auto (see above)"
    )
    parser.add_argument(
        "--sep", default=",", help="field separator, e.g. ';' or '\\t' (default ',')"
    )
    parser.add_argument(
        "--gold",
        metavar="GOLD.csv",
        help="question,truth (or question,answer) CSV of known answers",
    )
    parser.add_argument(
        "--truth", metavar="TRUTH.csv", help="question,truth CSV; prints accuracy to stderr"
    )
    parser.add_argument(
        "--replay-adaptive",
        action="store_true",
        help="replay the answers in random order through adaptive stopping (ds only) and "
        "aggregate only the answers it would have asked for; prints 'answers used: U of N' "
        "to stderr (with --truth also the full-redundancy accuracy)",
    )
    parser.add_argument(
        "--target",
        type=float,
        default=DEFAULT_TARGET,
        help=f"stopping confidence (default {DEFAULT_TARGET})",
    )
    parser.add_argument("--seed", type=int, default=0, help="replay order seed (default 0)")
    return parser


def main(
    argv: Sequence[str], stdout: TextSink, stderr: TextSink, stdin: IO[str] | None = None
) -> int:
    """Run ``trefpunt aggregate`` with ``argv`` (without the program and sub-command names)."""
    parser = _parser(stdout, stderr)
    try:
        args = parser.parse_args(list(argv))
    except _ParserExit as exc:
        return exc.status
    sep = "\t" if args.sep in ("\\t", "tab", "TAB") else args.sep
    if len(sep) != 1:
        parser.print_usage(stderr)
        stderr.write("trefpunt aggregate: error: --sep must be one character\n")
        return 2
    if not 0.0 < args.target <= 1.0:
        stderr.write("trefpunt aggregate: error: --target must lie in (0, 1]\n")
        return 2
    try:
        answers = _read_answers(args.answers, sep, stdin)
        gold_raw = (
            _known(args.gold, sep, stdin, (("question",), ("truth", "answer"))) if args.gold else {}
        )
        truth_raw = (
            _known(args.truth, sep, stdin, (("question",), ("truth",))) if args.truth else None
        )
    except InputFileError as exc:
        stderr.write(f"error: {exc}\n")
        return 2

    method = _choose_method(args.method, answers, stderr)
    if args.replay_adaptive and method != "ds":
        stderr.write("trefpunt aggregate: error: --replay-adaptive works with --method ds only\n")
        return 2
    repeats = count_repeats(answers.items, answers.workers, answers.n_workers)
    if repeats:
        stderr.write(
            f"warning: {repeats} repeated answers (same worker, same question): each worker's "
            "answers on a question share one vote\n"
        )
    try:
        if method == "numeric":
            return _run_numeric(args, answers, gold_raw, truth_raw, stdout, stderr)
        return _run_categorical(args, method, answers, gold_raw, truth_raw, stdout, stderr)
    except _Closed:
        _silence_stdout(stdout)
        return 0


def _run_numeric(
    args: argparse.Namespace,
    answers: _Answers,
    gold: dict[str, str],
    truth: dict[str, str] | None,
    stdout: TextSink,
    stderr: TextSink,
) -> int:
    values = [_number(n) for n in answers.label_names]
    bad = [n for n, v in zip(answers.label_names, values, strict=True) if v is None]
    if bad:
        stderr.write(f"error: {args.answers}: --method numeric needs numbers, found {bad[0]!r}\n")
        return 2
    numbers = np.asarray(values, dtype=np.float64)
    result = median(
        answers.items,
        numbers[answers.labels] if answers.labels.size else np.zeros(0),
        n_items=len(answers.questions),
    )
    rows = []
    for i, question in enumerate(answers.questions):
        if question in gold and _number(gold[question]) is not None:
            value = float(_number(gold[question]) or 0.0)
            rows.append((question, _number_name(value), "0", str(int(result.n_answers[i]))))
            continue
        rows.append(
            (
                question,
                _number_name(float(result.values[i])),
                f"{float(result.spread[i]):.6g}",
                str(int(result.n_answers[i])),
            )
        )
    _write_rows(stdout, iter([("question", "answer", "spread", "answers"), *rows]))
    if truth is not None:
        answer_of = {q: float(result.values[i]) for i, q in enumerate(answers.questions)}
        scored = [q for q in truth if q in answer_of and _number(truth[q]) is not None]
        if scored:
            errors = np.asarray([answer_of[q] - float(_number(truth[q]) or 0.0) for q in scored])
            stderr.write(
                f"mean absolute error: {np.abs(errors).mean():.6g} ({len(scored)} truth "
                f"questions, method numeric; {len(truth) - len(scored)} not counted)\n"
            )
    return 0


def _run_categorical(
    args: argparse.Namespace,
    method: str,
    answers: _Answers,
    gold_raw: dict[str, str],
    truth_raw: dict[str, str] | None,
    stdout: TextSink,
    stderr: TextSink,
) -> int:
    table = _label_table(answers.label_names, list(gold_raw.values()))
    item_of = {q: i for i, q in enumerate(answers.questions)}
    # Gold questions nobody answered cannot anchor anything and are not output.
    gold = {q: table.code[table.key(v)] for q, v in gold_raw.items() if q in item_of}
    result = _categorical(method, answers, table, gold, item_of)
    labels = result.labels.copy()
    confidence = result.confidence.copy()
    tied = result.tied.copy()
    full_labels = labels
    used = answers.items.size
    if args.replay_adaptive:
        remap = np.asarray([table.code[table.key(n)] for n in answers.label_names], dtype=np.intp)
        coded = remap[answers.labels] if answers.labels.size else _empty()
        replay = replay_adaptive(
            answers.items,
            answers.workers,
            coded,
            n_items=len(answers.questions),
            n_workers=answers.n_workers,
            n_classes=len(table.names),
            target=args.target,
            seed=args.seed,
            gold_items=np.asarray([item_of[q] for q in gold], dtype=np.intp) if gold else None,
            gold_labels=np.asarray(list(gold.values()), dtype=np.intp) if gold else None,
        )
        labels = replay.result.labels.copy()
        confidence = replay.confidence.copy()
        tied = replay.result.tied.copy()
        used = replay.answers_used
    if full_labels is not labels:
        full_labels = full_labels.copy()
        for q, code in gold.items():
            full_labels[item_of[q]] = code
    for q, code in gold.items():
        labels[item_of[q]] = code  # a known answer is the answer, whatever the crowd said
        confidence[item_of[q]] = 1.0
        tied[item_of[q]] = False
    names = table.names
    _write_rows(
        stdout,
        iter(
            [
                ("question", "answer", "confidence", "tied"),
                *(
                    (q, "" if lb < 0 else names[lb], f"{c:.6f}", "1" if t else "0")
                    for q, lb, c, t in zip(
                        answers.questions,
                        labels.tolist(),
                        confidence.tolist(),
                        tied.tolist(),
                        strict=True,
                    )
                ),
            ]
        ),
    )
    # One write per line: Django's OutputWrapper adds a newline to every write.
    total = int(answers.items.size)
    if args.replay_adaptive:
        saved = 100.0 * (1.0 - used / total) if total else 0.0
        stderr.write(f"answers used: {used} of {total} ({saved:.1f} % saved)\n")
    if truth_raw is not None:
        truth = {q: table.key(v) for q, v in truth_raw.items()}
        scored = [q for q in truth if q in item_of]
        missing = len(truth) - len(scored)

        def share(lab: np.ndarray) -> str:
            correct = sum(
                lab[item_of[q]] >= 0 and names[lab[item_of[q]]] == truth[q] for q in scored
            )
            return f"{100.0 * correct / len(scored):.2f}% ({correct} of {len(scored)}"

        if not scored:
            headline = f"accuracy: n/a (no truth question has answers, method {method}"
        elif args.replay_adaptive:
            headline = (
                f"accuracy: {share(labels)} truth questions, method {method} with adaptive "
                f"stopping at {args.target:g}; with all answers {share(full_labels).split(' (')[0]}"
            )
        else:
            headline = f"accuracy: {share(labels)} truth questions, method {method}"
        stderr.write(f"{headline}; {missing} truth questions without answers not counted)\n")
    return 0
