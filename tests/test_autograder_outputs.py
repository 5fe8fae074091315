"""Fast units of the instructor's outputs: late policies, stored results, feedback with hand
grades, the exports, the formgrader's command line (the CLI runs: test_autograder_incremental)."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime

import pytest

from autograder.cli import main
from autograder.frontends import formgrader
from autograder.grading.notebook import CellGrade, NotebookResult
from autograder.records import export, feedback
from autograder.records.late import (
    ARRIVAL,
    CLAIM,
    FILE_TIME,
    ON_TIME,
    RECEIPT,
    FileTimes,
    Lateness,
    LatePolicy,
    LatePolicyError,
    Rule,
    parse_time,
    read_receipts,
    read_timestamp,
    submission_time,
)
from autograder.records.outputs import load_result, save_result
from autograder.records.report import CSV_FIELDS, GradeRow, Mark, read_csv, totals, write_csv

# ----------------------------------------------------------------------------- late policy


def test_the_rule_counts_started_days_after_the_grace_and_caps():
    rule = Rule(percent_per_day=25, max_percent=60, grace_minutes=10)
    assert [rule.fraction(s) for s in (0, 9 * 60, 11 * 60, 86400 + 10 * 60, 86400 + 11 * 60,
                                       10 * 86400)] == [0, 0, 0.25, 0.25, 0.5, 0.6]
    assert Rule().fraction(10 * 86400) == 0  # no rule: no penalty


def test_a_policy_file_sets_due_dates_and_rules_per_assignment():
    policy = LatePolicy.parse("""
[default]
percent_per_day = 10
max_percent = 50

[01_mdps]
due = 2026-10-01T23:59:00+02:00

[02_bellman]
due = "2026-10-08 23:59:00 Europe/Berlin"
percent_per_day = 20

[03_dqn]
due = 2026-10-15T12:00:00
""")
    assert policy.due == {"01_mdps": datetime(2026, 10, 1, 21, 59),
                          "02_bellman": datetime(2026, 10, 8, 21, 59),
                          "03_dqn": datetime(2026, 10, 15, 12, 0)}  # no zone: UTC
    assert policy.rule("01_mdps") == Rule(10, 50)
    assert policy.rule("02_bellman") == Rule(20, 50)
    assert policy.rule("04_reinforce") == Rule(10, 50)
    assert LatePolicy.parse("").rule("01_mdps").fraction(10**6) == 0


@pytest.mark.parametrize(("text", "message"), [
    ("[default]\npercent_per_dy = 10\n", "unknown key(s) ['percent_per_dy']"),
    ("[default]\npercent_per_day = -1\n", "percent_per_day must be a number >= 0"),
    ("[default]\nmax_percent = 150\n", "max_percent must be at most 100"),
    ("[01_mdps]\ndue = \"next friday-ish\"\n", "[01_mdps]: due: not a time nbgrader can read"),
    ("[01_mdps]\ndue = 2026-10-01\n", "due must be a date-time"),
    ("01_mdps = 3\n", "expected a table [01_mdps]"),
    ("[default\n", "not valid TOML"),
])
def test_a_bad_policy_says_what_to_fix(text, message):
    with pytest.raises(LatePolicyError, match=re.escape(message)):
        LatePolicy.parse(text)


def test_the_output_directory_keeps_the_policy_and_rejects_unknown_assignments(tmp_path):
    given = tmp_path / "given.toml"
    given.write_text("[01_mdps]\ndue = 2026-10-01T23:59:00Z\n")
    out = tmp_path / "out"
    with pytest.raises(LatePolicyError, match=r"unknown assignment\(s\) \['01_mdps'\]"):
        LatePolicy.for_output(out, given, known={"02_bellman"})
    assert not (out / "late.toml").exists()  # a rejected policy is not kept
    assert LatePolicy.for_output(out, given, known={"01_mdps"}).due
    assert (out / "late.toml").read_text() == given.read_text()
    assert LatePolicy.for_output(out).due == {"01_mdps": datetime(2026, 10, 1, 23, 59)}
    assert LatePolicy.for_output(tmp_path / "elsewhere") == LatePolicy()


def test_timestamps_are_read_as_nbgrader_writes_them(tmp_path):
    from dateutil.tz import gettz
    from nbgrader.exchange.abc.exchange import Exchange

    # what nbgrader submit writes (and collect copies), with its default time zone
    fmt, zone = Exchange.timestamp_format.default_value, Exchange.timezone.default_value
    now = datetime(2026, 10, 2, 9, 30, 15, 123456, tzinfo=gettz(zone))
    (tmp_path / "timestamp.txt").write_text(now.strftime(fmt))
    assert read_timestamp(tmp_path) == datetime(2026, 10, 2, 9, 30, 15, 123456)
    (tmp_path / "timestamp.txt").write_text("2026-10-02 11:30:15.123456 Europe/Berlin")
    assert read_timestamp(tmp_path) == datetime(2026, 10, 2, 9, 30, 15, 123456)
    assert read_timestamp(tmp_path / "absent") is None
    (tmp_path / "timestamp.txt").write_text("  \n")
    with pytest.raises(ValueError, match="is empty"):
        read_timestamp(tmp_path)
    (tmp_path / "timestamp.txt").write_text("yesterday-ish")
    with pytest.raises(ValueError, match="not a time nbgrader can read"):
        read_timestamp(tmp_path)


def test_lateness_in_words():
    late = Lateness(parse_time("2026-10-03 10:00:00 UTC"), parse_time("2026-10-01 23:59 UTC"),
                    122460, Rule(10, 50))
    assert late.fraction == 0.2
    text = late.describe(3.2)
    assert "1 d 10 h 1 min late" in text and "Late penalty 20 %" in text and "-3.2" in text
    on_time = Lateness(late.due, late.due, 0, Rule(10, 50))
    assert on_time.describe().endswith("on time.")
    assert ON_TIME.describe() == ""


# ----------------------------------------------------------------------------- stored results


def _result() -> NotebookResult:
    cells = [CellGrade("check_a", "check", 0.0, 2.0, "failed", "case 1: differs (hint: h)",
                       ("report of a",)),
             CellGrade("check_b", "check", 1.0, 1.0, "ok"),
             CellGrade("written_w", "written", None, 3.0, "manual", "to be graded by hand")]
    return NotebookResult("ann", "a1", "a1", cells, notes=["restored 1 test cell"],
                          cell_errors=["cell 3: ValueError: x"], output="SECRET OUTPUT",
                          seconds=1.5)


def test_a_stored_result_round_trips_without_the_output(tmp_path):
    result = _result()
    path = save_result(result, tmp_path / "ann__a1.json")
    assert "SECRET OUTPUT" not in path.read_text()
    back = load_result(path)
    assert back.cells == result.cells and back.notes == result.notes
    assert back.cell_errors == result.cell_errors and back.output == ""
    path.write_text("{}")
    with pytest.raises(ValueError, match="cannot read the stored result"):
        load_result(path)


# ----------------------------------------------------------------------------- feedback


def test_marks_follow_nbgrader_scores():
    assert Mark(auto_score=1).score == 1
    assert Mark(auto_score=1, manual_score=0.5, extra_credit=1).score == 1.5
    assert Mark().score is None
    assert Mark(auto_score=0, manual_score=2).override_note() == "autograded 0, set by hand to 2"
    assert Mark(auto_score=2, manual_score=2).override_note() == ""


def test_the_feedback_shows_hand_grades_comments_overrides_and_lateness():
    marks = {"check_a": Mark(0.0, 2.0), "check_b": Mark(1.0),
             "written_w": Mark(None, 2.0, comment="Good, but <b>why</b>?"),
             "solution_f": Mark(comment="Use the terminal mask.")}
    late = Lateness(parse_time("2026-10-02 12:00 UTC"), parse_time("2026-10-01 23:59 UTC"),
                    43260, Rule(10, 50))
    page = feedback.render(_result(), marks, late)
    assert "Score: 4.5 / 6 points." in page  # (2 + 1 + 2) - 10 %
    assert "graded by hand" in page and "to be graded by hand" not in page
    assert "autograded 0, set by hand to 2" in page
    assert "Good, but &lt;b&gt;why&lt;/b&gt;?" in page  # escaped
    assert "solution_f" in page and "Use the terminal mask." in page
    assert "12 h 1 min late" in page and "-0.5 points" in page
    plain = feedback.render(_result())  # no gradebook: the autograde only
    assert "Score: 1 / 6 points." in plain and "still to be graded by hand" in plain


# ----------------------------------------------------------------------------- exports


ROWS = [GradeRow("ann", "a1", "a1", "c1", 2, 2, "ok", late_penalty=0.4),
        GradeRow("ann", "a1", "a1", "w1", 3, 3, "manual", late_penalty=0.6),
        GradeRow("ann", "a2", "a2", "c1", 1, 1, "ok"),
        GradeRow("ann", "a2", "a2", "w1", None, 3, "manual", "to be graded by hand"),
        GradeRow("ben", "a1", "a1", "c1", 0, 2, "failed", "x"),
        GradeRow("ben", "a1", "a1", "w1", 0, 3, "blank", "no answer written")]


def test_totals_take_the_late_penalty_off():
    by_key = totals(ROWS)
    assert by_key[("ann", "a1")].score == pytest.approx(4)
    assert by_key[("ann", "a1")].late_penalty == pytest.approx(1)
    assert by_key[("ann", "a2")].pending


def test_the_canvas_csv_has_canvas_columns_points_and_final_totals(tmp_path):
    path = export.write_canvas_csv(ROWS, {"ann": "Lee, Ann", "ben": "ben", "cy": "cy"},
                                   {"a1": 5, "a2": 4}, tmp_path / "canvas.csv")
    with path.open(newline="") as f:
        table = list(csv.reader(f))
    assert table == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "a1", "a2"],
        ["Points Possible", "", "", "", "", "5", "4"],
        ["Lee, Ann", "", "", "ann", "", "4", ""],  # a2 waits for hand grading
        ["ben", "", "", "ben", "", "0", ""],  # no a2 submission
        ["cy", "", "", "cy", "", "", ""],
    ]


def test_grades_csv_gains_only_the_late_columns(tmp_path):
    assert CSV_FIELDS == ("student", "assignment", "notebook", "grade_id", "score",
                          "max_score", "status", "reason", "late_penalty", "time_source")
    rows = read_csv(write_csv(ROWS, tmp_path / "grades.csv"))
    assert rows[0]["late_penalty"] == "0.4" and rows[3]["score"] == ""
    assert rows[0]["time_source"] == ""  # only with a due date
    long = read_csv(write_csv(ROWS, tmp_path / "long.csv", export.LONG_COLUMNS))
    assert tuple(long[0]) == export.LONG_COLUMNS


# ----------------------------------------------------------------------------- formgrader, CLI


def test_the_formgrader_command_serves_the_course_with_the_extension(tmp_path):
    argv = formgrader.command(tmp_path, ip="127.0.0.1", port=8123, token="t")
    assert argv[1:3] == ["-m", "jupyterlab"]
    for flag in (f"--ServerApp.root_dir={tmp_path}", "--ServerApp.port=8123",
                 "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=t",
                 f"--ServerApp.jpserver_extensions={formgrader.EXTENSION}=True",
                 "--ServerApp.port_retries=0", "--ServerApp.default_url=/formgrader"):
        assert flag in argv


@pytest.mark.parametrize("command", ["feedback", "formgrader"])
def test_feedback_and_formgrader_need_a_graded_directory(tmp_path, capsys, command):
    assert main([command, str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no graded course" in err and "python -m autograder grade" in err


# ----------------------------------------------------------------------------- which time


def _epoch(text: str) -> float:
    return parse_time(text).replace(tzinfo=UTC).timestamp()


NOW = parse_time("2026-12-01 00:00 UTC")
SAVED_EARLY, SAVED_LATE = _epoch("2026-09-30 11:00 UTC"), _epoch("2026-11-01 11:00 UTC")
ARRIVED = _epoch("2026-11-20 08:00 UTC")
STAMP = parse_time("2026-09-30 12:00 UTC")


def test_an_honest_timestamp_is_used_as_it_is():
    when = submission_time(STAMP, "", FileTimes(SAVED_EARLY, ARRIVED), now=NOW)
    assert (when.time, when.source, when.flags) == (STAMP, CLAIM, ())
    assert when.column == "timestamp.txt" and when.explained == "from its timestamp.txt"


def test_a_timestamp_earlier_than_the_file_gives_way_to_the_file():
    when = submission_time(STAMP, "", FileTimes(SAVED_LATE, ARRIVED), now=NOW)
    assert when.time == parse_time("2026-11-01 11:00 UTC") and when.source == FILE_TIME
    assert when.column == "file time; timestamp.txt earlier than the file"
    assert "before the notebook file was last saved" in when.explained


@pytest.mark.parametrize("problem", ["no timestamp.txt", "timestamp.txt unreadable (x)"])
def test_without_a_readable_timestamp_the_arrival_on_disk_dates_it(problem):
    when = submission_time(None, problem, FileTimes(SAVED_EARLY, ARRIVED), now=NOW)
    assert when.time == parse_time("2026-11-20 08:00 UTC") and when.source == ARRIVAL
    assert when.flags == (problem.split(" (")[0],)


def test_a_timestamp_from_the_future_is_flagged_and_used():
    future = parse_time("2999-01-01 00:00:00 UTC")
    when = submission_time(future, "", FileTimes(SAVED_EARLY, ARRIVED), now=NOW)
    assert when.time == future and when.source == CLAIM
    assert when.flags == ("timestamp.txt after arrival", "timestamp.txt in the future")
    huge = submission_time(STAMP, "", FileTimes(1e300, ARRIVED), now=NOW)
    assert huge.time == datetime.max and "file time in the future" in huge.flags


def test_receipts_catch_a_forged_timestamp_on_a_forged_file_time():
    receipt = parse_time("2026-11-02 09:00 UTC")
    when = submission_time(STAMP, "", FileTimes(SAVED_EARLY, ARRIVED), receipt=receipt,
                           receipts_given=True, now=NOW)
    assert when.time == receipt and when.source == RECEIPT
    assert when.flags == ("timestamp.txt differs from the receipt",)
    unlisted = submission_time(STAMP, "", FileTimes(SAVED_EARLY, ARRIVED), receipts_given=True,
                               now=NOW)
    assert unlisted.source == ARRIVAL and unlisted.flags == ("no receipt",)


def test_receipts_are_read_from_a_csv(tmp_path):
    path = tmp_path / "receipts.csv"
    path.write_text("student,assignment,received\nann,a1,2026-10-01 10:00:00 UTC\n"
                    "ann,a1,2026-10-02T10:00:00Z\nben,a1,2026-10-01 12:00 Europe/Berlin\n")
    assert read_receipts(path) == {("ann", "a1"): parse_time("2026-10-02 10:00 UTC"),
                                   ("ben", "a1"): parse_time("2026-10-01 10:00 UTC")}
    path.write_text("student,assignment,received\nann,a1,soon\n")
    with pytest.raises(LatePolicyError, match="line 2"):
        read_receipts(path)
    path.write_text("who,when\nann,2026-10-01\n")
    with pytest.raises(LatePolicyError, match="header"):
        read_receipts(path)


def test_submission_text_is_cleaned_for_files_and_terminals():
    from autograder.records.text import clean_result, scrub

    noise = "a\ud800\x1b[2J\x1b]0;title\x07\x9b2Jb\r\n\tc"
    assert scrub({noise: [noise, (noise, 1)]}) == {"a\ufffdb\n\tc": ["a\ufffdb\n\tc",
                                                                     ("a\ufffdb\n\tc", 1)]}
    result = clean_result(NotebookResult("s", "a", "n", [CellGrade(
        "g", "check", 0.0, 1.0, "failed", noise, (noise,))], notes=[noise], output=noise))
    assert result.cells[0].reason == result.output == result.notes[0] == "a\ufffdb\n\tc"
    assert result.cells[0].reports == ("a\ufffdb\n\tc",)
