"""Late submissions: due dates, the penalty rule, and how late a submission was.

nbgrader already knows when a submission is late: ``nbgrader collect`` copies the student's
``timestamp.txt`` into ``submitted/<student>/<assignment>/``, an assignment has a due date in
the gradebook (``Assignment.duedate``, shown and editable in formgrader's Manage Assignments),
an extension granted to one student moves that student's due date, and the gradebook computes
``total_seconds_late`` from the three. What nbgrader lacks is a penalty rule (its own plugin
knows "none" and "zero"). This module reads the timestamps the way nbgrader does
(:func:`nbgrader.utils.parse_utc`), takes due dates and the rule from a small policy file, and
turns the seconds late into the share of the points taken off.

The policy file (TOML; ``grade --late FILE``, kept as ``DIR/late.toml`` for later runs)::

    [default]               # the rule of every assignment (all keys optional)
    percent_per_day = 10    # % of the points earned taken off per started day late
    max_percent = 50        # the penalty never exceeds this % (100: down to zero)
    grace_minutes = 15      # this much after the due date still counts as on time

    [01_mdps]               # one table per assignment id
    due = 2026-10-01T23:59:00+02:00
    percent_per_day = 20    # any key of [default] can be changed for one assignment

``due`` is a TOML date-time, or a string in any form nbgrader's own ``--duedate`` takes (e.g.
``"2026-10-01 23:59:00 Europe/Berlin"``); without a time zone it is UTC, as in nbgrader.
Without a policy there is no due date and no penalty. With a due date but no rule the lateness
is shown and nothing is taken off.

``timestamp.txt`` is the student's claim (their nbgrader client writes it; they can write any
time into it), so it never makes a submission earlier than the evidence the instructor's side
holds: :func:`submission_time` takes the latest of the claim, the notebook file's own time, the
instructor's receipt (``grade --receipts``) and, without a readable claim, the file's arrival
on disk (its ``ctime``), and flags what is impossible (README, "Which time counts").

The rule, in one line: a submission ``s`` seconds after the due date (extensions included) loses
``min(max_percent, percent_per_day * ceil((s - 60 * grace_minutes) / 86400)) %`` of the points
it earned, written answers included; on time it loses nothing.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

#: the file name of the policy an output directory keeps for its later runs.
POLICY_FILE = "late.toml"
#: the file ``nbgrader collect`` leaves next to a submitted notebook.
TIMESTAMP_FILE = "timestamp.txt"
_DAY = 86400.0


class LatePolicyError(ValueError):
    """A policy file that cannot be used; the message says which key to fix."""


@dataclass(frozen=True)
class Rule:
    """How much a late submission loses."""

    percent_per_day: float = 0.0
    """percent of the points earned taken off per started day (24 h) late."""
    max_percent: float = 100.0
    """the penalty never exceeds this percent of the points earned."""
    grace_minutes: float = 0.0
    """minutes after the due date that still count as on time."""

    def fraction(self, seconds_late: float) -> float:
        """The share of the points earned taken off a submission ``seconds_late`` late.

        >>> rule = Rule(percent_per_day=10, max_percent=50)
        >>> rule.fraction(0), rule.fraction(3600), rule.fraction(86400 + 1)
        (0.0, 0.1, 0.2)
        >>> rule.fraction(30 * 86400)
        0.5
        >>> Rule(10, 50, grace_minutes=15).fraction(14 * 60)
        0.0
        """
        days = self.days_late(seconds_late)
        return min(self.max_percent, self.percent_per_day * days) / 100 if days else 0.0

    def days_late(self, seconds_late: float) -> int:
        """The started days late after the grace period (0 when on time)."""
        over = seconds_late - 60 * self.grace_minutes
        return math.ceil(over / _DAY) if over > 0 else 0

    def describe(self) -> str:
        """The rule in words, e.g. ``10 % per started day late, at most 50 %``."""
        if not self.percent_per_day:
            return "no penalty"
        grace = f", after {self.grace_minutes:g} min of grace" if self.grace_minutes else ""
        return (f"{self.percent_per_day:g} % of the points per started day late, "
                f"at most {self.max_percent:g} %{grace}")


@dataclass(frozen=True)
class Lateness:
    """When a submission came in against its due date, and what that costs."""

    submitted: datetime | None
    """the submission's time (naive UTC, nbgrader's convention); None: unknown."""
    due: datetime | None
    """the due date for this student (extension included; naive UTC); None: none set."""
    seconds_late: float
    rule: Rule
    source: str = ""
    """where ``submitted`` comes from (:attr:`SubmissionTime.explained`); "" when unknown."""

    @property
    def fraction(self) -> float:
        """The share of the points earned taken off (0 when on time or without a rule)."""
        return self.rule.fraction(self.seconds_late)

    def describe(self, penalty: float | None = None) -> str:
        """One sentence for the feedback: when, how late, the rule and the points lost."""
        if self.submitted is None or self.due is None:
            return ""
        source = f" ({self.source})" if self.source else ""
        when = f"Submitted {_show(self.submitted)}{source}, due {_show(self.due)}"
        if self.seconds_late <= 0:
            return f"{when}: on time."
        text = f"{when}: {_duration(self.seconds_late)} late."
        if not self.fraction:
            return f"{text} No late penalty ({self.rule.describe()})."
        lost = "" if penalty is None else f": -{penalty:g} points"
        return (f"{text} Late penalty {100 * self.fraction:g} % of the points earned "
                f"({self.rule.describe()}){lost}.")


ON_TIME = Lateness(None, None, 0.0, Rule())


def _show(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes else ""]
    return " ".join(filter(None, parts)) or "0 min"


# ----------------------------------------------------------------------------- timestamps


def parse_time(value: str | datetime) -> datetime:
    """A time as nbgrader stores it: naive UTC (``nbgrader.utils.parse_utc``).

    Raises:
        ValueError: ``value`` is not a time nbgrader can read.

    """
    from nbgrader.utils import parse_utc

    if isinstance(value, datetime):
        return parse_utc(value)
    try:
        return parse_utc(value.strip())
    except (ValueError, OverflowError, TypeError) as exc:
        raise ValueError(f"not a time nbgrader can read: {value.strip()!r} ({exc})") from None


def read_timestamp(directory: Path) -> datetime | None:
    """The submission time in ``directory/timestamp.txt`` (None when the file is absent).

    The file is what ``nbgrader collect`` leaves (``%Y-%m-%d %H:%M:%S.%f %Z`` by default),
    read with nbgrader's own parser, so that it means what it means to nbgrader. A trap of that
    parser: a zone abbreviation dateutil does not know (``CEST``, written when
    ``c.Exchange.timezone`` is not UTC) is read as UTC; nbgrader's default zone, UTC, is safe.

    Raises:
        ValueError: the file exists but holds no readable time.

    """
    path = Path(directory) / TIMESTAMP_FILE
    if not path.is_file():
        return None
    return timestamp_from_text(path.read_text(encoding="utf-8", errors="replace"), str(path))


def timestamp_from_text(text: str, where: str) -> datetime:
    """The time a ``timestamp.txt`` holds (``where`` names it in the error).

    Raises:
        ValueError: it holds no readable time.

    """
    if not text.strip():
        raise ValueError(f"{where} is empty")
    return parse_time(text)


# ----------------------------------------------------------------------------- which time

#: how far two times may disagree before it is flagged (clock skew, the copy's own delay).
FLAG_SECONDS = 60.0
#: where a submission's time came from (``grades.csv``'s ``time_source``).
CLAIM, RECEIPT, FILE_TIME, ARRIVAL = "timestamp.txt", "receipt", "file time", "arrival"
_EXPLAINED = {
    CLAIM: "from its timestamp.txt",
    RECEIPT: "from the instructor's receipt",
    FILE_TIME: "the notebook file's own time",
    ARRIVAL: "when the notebook arrived on the grading machine",
}


@dataclass(frozen=True)
class FileTimes:
    """The submitted notebook's times on the instructor's disk (``os.stat``, epoch seconds)."""

    modified: float | None
    """``st_mtime``: kept by nbgrader's submit and collect (they copy with ``copy2``), so the
    time the student last saved the notebook; a plain copy or download sets it to then."""
    changed: float | None
    """``st_ctime``: set by the kernel whenever the file is created or changed, never back in
    time by anyone: when the file arrived on this disk (``nbgrader collect``, a copy, an
    unzip), or later."""


@dataclass(frozen=True)
class SubmissionTime:
    """The time a submission is graded at, where it came from, and what looked wrong."""

    time: datetime | None
    """naive UTC; None when there is no evidence at all (no file)."""
    source: str
    """:data:`CLAIM`, :data:`RECEIPT`, :data:`FILE_TIME` or :data:`ARRIVAL` ("" for none)."""
    flags: tuple[str, ...] = ()
    """short phrases (``timestamp.txt earlier than the file``) for the CSV column."""
    details: tuple[str, ...] = ()
    """the same as sentences with the times, for the feedback and the log."""

    @property
    def column(self) -> str:
        """``grades.csv``'s ``time_source``: the source, then the flags."""
        return "; ".join([self.source, *self.flags]) if self.source else ""

    @property
    def explained(self) -> str:
        """The source and the flags in words (the feedback's late sentence)."""
        if not self.source:
            return ""
        return "; ".join([_EXPLAINED[self.source], *self.details])


def _from_epoch(seconds: float | None) -> datetime | None:
    """Epoch seconds as naive UTC; a time past year 9999 is the latest time there is."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return datetime.max if seconds > 0 else None


def submission_time(claim: datetime | None, claim_problem: str, files: FileTimes | None, *,
                    receipt: datetime | None = None, receipts_given: bool = False,
                    now: datetime) -> SubmissionTime:
    """The time a submission is graded at: the latest of what is known about it.

    Fails closed: a time the student can write only ever makes a submission later.

    * ``claim``: ``timestamp.txt`` (written by the student's nbgrader client at submit; the
      student can write any time into it). ``claim_problem`` says why it is None
      (``no timestamp.txt``, ``timestamp.txt unreadable``).
    * the notebook's modification time ``files.modified``: a notebook is submitted after it was
      last saved, so a claim earlier than it is impossible and the file's time wins (flagged).
    * ``receipt``: the instructor's own record of when the submission arrived (``grade
      --receipts``); the claim cannot precede it either.
    * only when there is no claim or, with receipts, no receipt for this submission: when the
      file arrived on this disk (``files.changed``), the one time nobody can set back.

    A claim (or a file time) later than the file's arrival or than ``now`` is impossible too;
    it is flagged and, being the latest, used: a student can only lose by it, and an honest
    student with a wrong clock is shown to the instructor, who can grant an extension.
    """
    flags: list[str] = []
    details: list[str] = []
    modified, arrived = (_from_epoch(files.modified), _from_epoch(files.changed)) \
        if files is not None else (None, None)
    evidence: list[tuple[datetime, str]] = []
    if claim is not None:
        evidence.append((claim, CLAIM))
    else:
        problem = claim_problem or "no timestamp.txt"
        flags.append(problem.split(" (", 1)[0])  # the short form; the details say why
        details.append(problem)
    if receipt is not None:
        evidence.append((receipt, RECEIPT))
    elif receipts_given:
        flags.append("no receipt")
        details.append("no receipt for this submission")
    if modified is not None:
        evidence.append((modified, FILE_TIME))
    if (claim is None or (receipts_given and receipt is None)) and arrived is not None:
        evidence.append((arrived, ARRIVAL))
    if not evidence:
        return SubmissionTime(None, "", tuple(flags), tuple(details))
    time, source = max(evidence, key=lambda item: item[0])  # ties: the claim
    slack = timedelta(seconds=FLAG_SECONDS)

    def flag(short: str, long: str) -> None:
        flags.append(short)
        details.append(long)

    if claim is not None:
        if modified is not None and claim < modified - slack:
            flag("timestamp.txt earlier than the file",
                 f"timestamp.txt says {_show(claim)}, before the notebook file was last "
                 f"saved ({_show(modified)})")
        if receipt is not None and abs(claim - receipt) > slack:
            flag("timestamp.txt differs from the receipt",
                 f"timestamp.txt says {_show(claim)}, the receipt {_show(receipt)}")
        if arrived is not None and claim > arrived + slack:
            flag("timestamp.txt after arrival",
                 f"timestamp.txt says {_show(claim)}, after the notebook arrived on the "
                 f"grading machine ({_show(arrived)})")
        if claim > now + slack:
            flag("timestamp.txt in the future", f"timestamp.txt says {_show(claim)}, "
                                                "a time still in the future when graded")
    if modified is not None and modified > now + slack:
        flag("file time in the future",
             f"the notebook file's time {_show(modified)} is still in the future")
    return SubmissionTime(time, source, tuple(flags), tuple(details))


def read_receipts(path: Path) -> dict[tuple[str, str], datetime]:
    """The instructor's receipts: a CSV ``student,assignment,received`` (a header row).

    ``received`` is any time nbgrader reads (no zone: UTC). A student with several rows for
    one assignment gets the latest.

    Raises:
        LatePolicyError: not such a file (with the line to fix).

    """
    import csv

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no receipts file {path}")
    out: dict[tuple[str, str], datetime] = {}
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.DictReader(f)
        if not {"student", "assignment", "received"} <= set(reader.fieldnames or ()):
            raise LatePolicyError(f"{path}: the header must name student, assignment and "
                                  f"received, got {reader.fieldnames}")
        for n, row in enumerate(reader, start=2):
            try:
                when = parse_time(row["received"] or "")
            except ValueError as exc:
                raise LatePolicyError(f"{path} line {n}: {exc}") from None
            key = ((row["student"] or "").strip(), (row["assignment"] or "").strip())
            out[key] = max(when, out.get(key, when))
    return out


# ----------------------------------------------------------------------------- policy

_RULE_KEYS = {"percent_per_day", "max_percent", "grace_minutes"}


@dataclass(frozen=True)
class LatePolicy:
    """Due dates and penalty rules per assignment (see the module docstring)."""

    default: Rule = Rule()
    rules: dict[str, Rule] = field(default_factory=dict)
    """assignment id -> its rule, where it differs from ``default``."""
    due: dict[str, datetime] = field(default_factory=dict)
    """assignment id -> its due date (naive UTC)."""
    text: str = ""
    """the policy file's text ("" for no policy)."""

    def rule(self, assignment: str) -> Rule:
        """The penalty rule of ``assignment``."""
        return self.rules.get(assignment, self.default)

    def lateness(self, assignment: str, submitted: datetime | None, due: datetime | None,
                 seconds_late: float, source: str = "") -> Lateness:
        """The lateness of one submission, from the gradebook's figures.

        ``submitted``, ``due`` and ``seconds_late`` are nbgrader's ``timestamp``, ``duedate``
        (extension included) and ``total_seconds_late`` of the submission; ``source`` says
        where the time came from (:attr:`SubmissionTime.explained`).
        """
        return Lateness(submitted, due, float(seconds_late or 0.0), self.rule(assignment),
                        source)

    @classmethod
    def parse(cls, text: str, origin: str = "late policy") -> LatePolicy:
        """Read a policy file's text.

        Raises:
            LatePolicyError: not TOML, an unknown key, or a value out of range.

        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise LatePolicyError(f"{origin}: not valid TOML ({exc})") from None
        default = _rule(data.pop("default", {}), Rule(), f"{origin} [default]")
        rules, due = {}, {}
        for assignment, table in data.items():
            where = f"{origin} [{assignment}]"
            if not isinstance(table, dict):
                raise LatePolicyError(f"{where}: expected a table [{assignment}] with due = "
                                      "... and rule keys, got a plain value")
            table = dict(table)
            if "due" in table:
                due[assignment] = _due(table.pop("due"), where)
            if table:
                rules[assignment] = _rule(table, default, where)
        return cls(default, rules, due, text)

    @classmethod
    def load(cls, path: Path) -> LatePolicy:
        """Read a policy file (see :meth:`parse`)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no late policy file {path}")
        return cls.parse(path.read_text(encoding="utf-8"), str(path))

    @classmethod
    def for_output(cls, out_dir: Path, path: Path | None = None,
                   known: Collection[str] | None = None) -> LatePolicy:
        """The policy of an output directory.

        That is ``path`` if given (then kept as ``out_dir/late.toml`` for later runs), else
        the kept one, else no policy.

        Raises:
            LatePolicyError: the file is unusable, or (with ``known``, the assignment ids)
                names an unknown assignment: a typo would silently do nothing.

        """
        kept = Path(out_dir) / POLICY_FILE
        if path is None:
            policy = cls.load(kept) if kept.is_file() else cls()
        else:
            policy = cls.load(path)
        unknown = sorted((set(policy.rules) | set(policy.due)) - set(known or ()))
        if known is not None and unknown:
            raise LatePolicyError(f"late policy: unknown assignment(s) {unknown}; "
                                  f"known: {sorted(known)}")
        if path is not None and Path(path).resolve() != kept.resolve():
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_text(policy.text, encoding="utf-8")
        return policy


def _rule(table: Any, base: Rule, where: str) -> Rule:
    if not isinstance(table, dict):
        raise LatePolicyError(f"{where}: expected a table")
    unknown = sorted(set(table) - _RULE_KEYS)
    if unknown:
        raise LatePolicyError(f"{where}: unknown key(s) {unknown}; a rule has "
                              f"{sorted(_RULE_KEYS)} and an assignment also due")
    values = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise LatePolicyError(f"{where}: {key} must be a number >= 0, got {value!r}")
        values[key] = float(value)
    rule = replace(base, **values)
    if rule.max_percent > 100:
        raise LatePolicyError(f"{where}: max_percent must be at most 100, got "
                              f"{rule.max_percent:g}")
    return rule


def _due(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        return parse_time(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, str):
        try:
            return parse_time(value)
        except ValueError as exc:
            raise LatePolicyError(f"{where}: due: {exc}") from None
    raise LatePolicyError(f"{where}: due must be a date-time (2026-10-01T23:59:00+02:00) or "
                          f"a string nbgrader reads, got {value!r}")
