"""``trefpunt aggregate``: CSV in, CSV out, accuracy and errors on stderr. No database."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
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
    assert out.splitlines()[1:] == ["q1,cat,0.666667,0", "q2,dog,1.000000,0", "q3,cat,0.666667,0"]
    assert err.startswith("accuracy: 66.67% (2 of 3 truth questions, method mv;")


def test_aggregate_gold_answers_win_and_get_full_confidence(tmp_path: Path) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS)
    gold = write(tmp_path / "gold.csv", "question,answer\nq3,dog\nq4,bird\n")
    status, out, _ = run(answers, "--gold", gold)
    rows = {r["question"]: r for r in csv.DictReader(io.StringIO(out))}
    assert status == 0
    assert rows["q3"]["answer"] == "dog"
    assert rows["q3"]["confidence"] == "1.000000"
    # A gold question nobody answered is not an output row.
    assert "q4" not in rows


def test_aggregate_handles_quoted_fields_bom_and_extra_columns(tmp_path: Path) -> None:
    text = '\ufeffworker,question,answer,seconds\nann,"q, 1","a ""b""",3\nbob,"q, 1","a ""b""",4\n'
    answers = write(tmp_path / "answers.csv", text)
    status, out, _ = run(answers, "--method", "mv")
    assert status == 0
    assert out == 'question,answer,confidence,tied\n"q, 1","a ""b""",1.000000,0\n'


def test_aggregate_header_only_file_gives_header_only_output(tmp_path: Path) -> None:
    answers = write(tmp_path / "answers.csv", "question,worker,answer\n")
    status, out, _ = run(answers)
    assert status == 0
    assert out == "question,answer,confidence,tied\n"


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


# --- issue 14: the CLI for data scientists ------------------------------------------------


def test_aggregate_reads_standard_input_for_dash() -> None:
    out, err = io.StringIO(), io.StringIO()
    status = main(["-", "--method", "mv"], out, err, stdin=io.StringIO(ANSWERS))
    assert status == 0
    assert out.getvalue().splitlines()[2] == "q2,dog,1.000000,0"


@pytest.mark.parametrize(("sep", "option"), [(";", ";"), ("\t", "\\t"), ("|", "|")])
def test_aggregate_reads_other_separators(tmp_path: Path, sep: str, option: str) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS.replace(",", sep))
    status, out, _ = run(answers, "--sep", option, "--method", "mv")
    assert status == 0
    assert out.splitlines()[1] == "q1,cat,0.666667,0"


@pytest.mark.parametrize(("sep", "shown"), [(";", ";"), ("\t", "\\t")])
def test_aggregate_hints_at_the_separator_the_header_uses(
    tmp_path: Path, sep: str, shown: str
) -> None:
    answers = write(tmp_path / "answers.csv", ANSWERS.replace(",", sep))
    status, out, err = run(answers)
    assert status == 2
    assert out == ""
    assert f"the header looks separated by '{shown}': try --sep '{shown}'" in err


def test_aggregate_compares_numeric_answers_as_numbers(tmp_path: Path) -> None:
    text = "question,worker,answer\nq1,a,1\nq1,b,1.0\nq1,c,01\nq2,a,2\nq2,b,2\nq2,c,3\n"
    answers = write(tmp_path / "answers.csv", text)
    status, out, err = run(answers, "--method", "mv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert rows[0]["answer"] == "1"
    assert rows[0]["confidence"] == "1.000000"
    assert rows[1]["answer"] == "2"
    assert err == ""  # an explicit method: no auto-detection warning


def test_aggregate_auto_treats_few_whole_numbers_as_categories_with_a_warning(
    tmp_path: Path,
) -> None:
    text = "question,worker,answer\nq1,a,1\nq1,b,1.0\nq1,c,5\n"
    status, out, err = run(write(tmp_path / "answers.csv", text))
    assert status == 0
    assert out.splitlines()[1].startswith("q1,1,")
    assert "treated as categories" in err
    assert "--method numeric" in err


def test_aggregate_auto_uses_the_median_for_measurements(tmp_path: Path) -> None:
    rows = ["question,worker,answer"]
    rows += [f"q{q},w{w},{q * 10 + w * 0.5}" for q in range(3) for w in range(5)]
    rows.append("q0,w9,1000")
    status, out, err = run(write(tmp_path / "answers.csv", "\n".join(rows) + "\n"))
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert "using --method numeric" in err
    assert list(parsed[0]) == ["question", "answer", "spread", "answers"]
    assert parsed[0]["answer"] == "1.25"  # the wild 1000 does not move the median far
    assert parsed[0]["answers"] == "6"


def test_aggregate_numeric_method_refuses_text(tmp_path: Path) -> None:
    status, out, err = run(write(tmp_path / "a.csv", ANSWERS), "--method", "numeric")
    assert status == 2
    assert out == ""
    assert "needs numbers, found 'cat'" in err


def test_aggregate_counts_repeated_answers_once_and_warns(tmp_path: Path) -> None:
    text = ANSWERS + "q1,eve,dog\nq1,eve,dog\n"  # eve says dog three times on q1
    status, out, err = run(write(tmp_path / "answers.csv", text), "--method", "mv")
    assert status == 0
    assert out.splitlines()[1] == "q1,cat,0.666667,0"
    assert "warning: 2 repeated answers" in err


def test_aggregate_flags_ties(tmp_path: Path) -> None:
    text = "question,worker,answer\nq1,a,cat\nq1,b,dog\nq2,a,cat\nq2,b,cat\n"
    status, out, _ = run(write(tmp_path / "answers.csv", text), "--method", "mv")
    assert status == 0
    assert out.splitlines()[1:] == ["q1,cat,0.500000,1", "q2,cat,1.000000,0"]


def test_aggregate_help_explains_methods_columns_confidence_and_exit_codes() -> None:
    status, out, _ = run("--help")
    assert status == 0
    for text in (
        "ds ",
        "mv ",
        "wmv ",
        "ods ",
        "numeric ",
        "question,answer,confidence,tied",
        "confidence        the method's probability",
        "exit status:",
        "2  bad input",
        "--replay-adaptive",
        "--sep",
        "'-' reads standard input",
        "one vote there",
    ):
        assert text in out


def test_aggregate_replay_adaptive_reports_answers_used_and_accuracy(tmp_path: Path) -> None:
    lines = ["question,worker,answer"]
    truth = []
    for q in range(300):
        label = "yes" if q % 3 else "no"
        truth.append(f"q{q},{label}")
        for w in range(9):
            wrong = (q * 7 + w * 13) % 10 == 0
            lines.append(f"q{q},w{w},{('no' if label == 'yes' else 'yes') if wrong else label}")
    answers = write(tmp_path / "answers.csv", "\n".join(lines) + "\n")
    truth_file = write(tmp_path / "truth.csv", "question,truth\n" + "\n".join(truth) + "\n")
    status, out, err = run(answers, "--replay-adaptive", "--truth", truth_file, "--seed", "3")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert len(rows) == 300
    assert list(rows[0]) == ["question", "answer", "confidence", "tied"]
    used_line = next(line for line in err.splitlines() if line.startswith("answers used:"))
    used = int(used_line.split()[2])
    assert used < 2700
    assert used_line.endswith("% saved)")
    assert "with all answers" in err
    again = run(answers, "--replay-adaptive", "--seed", "3")
    assert again[1] == out  # the same seed replays the same order


def test_aggregate_replay_needs_a_categorical_method(tmp_path: Path) -> None:
    status, _, err = run(write(tmp_path / "a.csv", ANSWERS), "--replay-adaptive", "--method", "mv")
    assert status == 2
    assert "--method ds only" in err


def test_aggregate_exits_quietly_when_the_reader_closes_the_pipe(tmp_path: Path) -> None:
    lines = ["question,worker,answer"] + [f"q{q},w{q % 7},{q % 2}" for q in range(60000)]
    answers = write(tmp_path / "answers.csv", "\n".join(lines) + "\n")
    script = (
        "import sys; from trefpunt.microtasks.aggregation.cli import main; "
        "sys.exit(main(sys.argv[1:], sys.stdout, sys.stderr))"
    )
    head_path = shutil.which("head")
    assert head_path is not None
    reader = subprocess.Popen(  # noqa: S603 - a fixed command line
        [head_path, "-n", "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert reader.stdin is not None and reader.stdout is not None
    writer = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script, str(answers), "--method", "mv"],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        check=False,
    )
    reader.stdin.close()
    head = reader.stdout.read()
    reader.wait()
    assert head.decode().splitlines()[0] == "question,answer,confidence,tied"
    assert writer.returncode == 0
    assert writer.stderr.decode() == ""
