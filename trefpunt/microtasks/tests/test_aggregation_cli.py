"""``trefpunt aggregate``: CSV in, CSV out, accuracy and errors on stderr. No database."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from trefpunt.microtasks.aggregation.cli import main

ANSWERS = """question,worker,answer
q1,ann,cat
q1,bob,cat
q1,eve,dog
q2,ann,dog
q2,bob,dog
q2,eve,dog
q3,ann,cat
q3,bob,dog
q3,eve,cat
"""


def run(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], out, err)
    return status, out.getvalue(), err.getvalue()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def labelled_batch() -> tuple[str, list[str]]:
    """40 questions, 5 workers: four reliable ones (one slip each), one who always says dog."""
    truth = ["cat" if (7 * q) % 3 else "dog" for q in range(40)]
    lines = ["question,worker,answer"]
    for q, label in enumerate(truth):
        for w in range(4):
            slip = q == 10 * w
            lines.append(f"q{q},w{w},{('dog' if label == 'cat' else 'cat') if slip else label}")
        lines.append(f"q{q},w4,dog")
    return "\n".join(lines) + "\n", truth


@pytest.mark.parametrize("method", ["mv", "wmv", "ds", "ods"])
def test_aggregate_writes_one_row_per_question_and_accuracy(tmp_path: Path, method: str) -> None:
    text, truth = labelled_batch()
    answers = write(tmp_path / "answers.csv", text)
    truth_rows = "".join(f"q{q},{label}\n" for q, label in enumerate(truth[:30]))
    truth_file = write(tmp_path / "truth.csv", "question,truth\n" + truth_rows + "q99,cat\n")
    status, out, err = run(answers, "--method", method, "--truth", truth_file)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [r["question"] for r in rows] == [f"q{q}" for q in range(40)]
    assert [r["answer"] for r in rows] == truth
    assert all(0.5 < float(r["confidence"]) <= 1.0 for r in rows)
    assert err == (
        f"accuracy: 100.00% (30 of 30 truth questions, method {method}; "
        "1 truth questions without answers not counted)\n"
    )


def test_aggregate_reports_accuracy_below_100_when_answers_are_wrong(tmp_path: Path) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS)
    truth = write(tmp_path / "truth.csv", "question,truth\nq1,cat\nq2,dog\nq3,dog\n")
    status, out, err = run(answers, "--method", "mv", "--truth", truth)
    assert status == 0
    assert out.splitlines()[1:] == ["q1,cat,0.666667", "q2,dog,1.000000", "q3,cat,0.666667"]
    assert err.startswith("accuracy: 66.67% (2 of 3 truth questions, method mv;")


def test_aggregate_gold_answers_win_and_get_full_confidence(tmp_path: Path) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS)
    gold = write(tmp_path / "gold.csv", "question,answer\nq3,dog\nq4,bird\n")
    status, out, _ = run(answers, "--gold", gold)
    rows = {r["question"]: r for r in csv.DictReader(io.StringIO(out))}
    assert status == 0
    assert rows["q3"]["answer"] == "dog"
    assert rows["q3"]["confidence"] == "1.000000"
    assert rows["q4"]["answer"] == "bird"


def test_aggregate_handles_quoted_fields_bom_and_extra_columns(tmp_path: Path) -> None:
    text = '\ufeffworker,question,answer,seconds\nann,"q, 1","a ""b""",3\nbob,"q, 1","a ""b""",4\n'
    answers = write(tmp_path / "answers.csv", text)
    status, out, _ = run(answers, "--method", "mv")
    assert status == 0
    assert out == 'question,answer,confidence\n"q, 1","a ""b""",1.000000\n'


def test_aggregate_header_only_file_gives_header_only_output(tmp_path: Path) -> None:
    answers = write(tmp_path / "answers.csv", "question,worker,answer\n")
    status, out, _ = run(answers)
    assert status == 0
    assert out == "question,answer,confidence\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: empty file"),
        ("question,answer\nq1,a\n", "line 1: header lacks column 'worker'"),
        ("question,worker,answer\nq1,ann,a\nq2,bob\n", "line 3: expected 3 fields, found 2"),
        ("question,worker,answer\nq1,ann,a\nq2,bob,a,extra\n", "line 3: expected 3 fields"),
        ("question,worker,answer\nq1,,a\n", "line 2: empty 'worker'"),
        ('question,worker,answer\nq1,ann,"a\n', "line 2: malformed CSV"),
        ("question,question,answer\n", "line 1: header repeats"),
    ],
)
def test_aggregate_bad_answers_file_exits_2_naming_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    answers = write(tmp_path / "answers.csv", text)
    status, out, err = run(answers)
    assert status == 2
    assert out == ""
    assert err == f"error: {answers}: {message}" + err.split(message, 1)[1]
    assert message in err


def test_aggregate_missing_file_exits_2(tmp_path: Path) -> None:
    status, out, err = run(tmp_path / "nope.csv")
    assert status == 2
    assert out == ""
    assert err == f"error: {tmp_path / 'nope.csv'}: no such file\n"


def test_aggregate_non_utf8_file_exits_2(tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_bytes(b"question,worker,answer\nq1,ann,\xff\n")
    status, _, err = run(answers)
    assert status == 2
    assert "not UTF-8" in err


def test_aggregate_bad_truth_file_names_that_file(tmp_path: Path) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS)
    truth = write(tmp_path / "truth.csv", "question,truth\nq1,cat\nq1,dog\n")
    status, _, err = run(answers, "--truth", truth)
    assert status == 2
    assert err == f"error: {truth}: line 3: question 'q1' listed twice\n"


def test_aggregate_gold_file_needs_an_answer_column(tmp_path: Path) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS)
    gold = write(tmp_path / "gold.csv", "question,label\nq1,cat\n")
    status, _, err = run(answers, "--gold", gold)
    assert status == 2
    assert f"error: {gold}: line 1: header lacks column 'truth' or 'answer'" in err


def test_aggregate_unknown_method_is_a_usage_error(tmp_path: Path) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS)
    status, out, err = run(answers, "--method", "best")
    assert status == 2
    assert out == ""
    assert "invalid choice: 'best'" in err


def test_aggregate_help_goes_to_stdout_and_exits_0() -> None:
    status, out, err = run("--help")
    assert status == 0
    assert "--method" in out
    assert err == ""
