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

The rule, in one line: a submission ``s`` seconds after the due date (extensions included) loses
``min(max_percent, percent_per_day * ceil((s - 60 * grace_minutes) / 86400)) %`` of the points
it earned, written answers included; on time it loses nothing.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
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

    @property
    def fraction(self) -> float:
        """The share of the points earned taken off (0 when on time or without a rule)."""
        return self.rule.fraction(self.seconds_late)

    def describe(self, penalty: float | None = None) -> str:
        """One sentence for the feedback: when, how late, the rule and the points lost."""
        if self.submitted is None or self.due is None:
            return ""
        when = f"Submitted {_show(self.submitted)}, due {_show(self.due)}"
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
                 seconds_late: float) -> Lateness:
        """The lateness of one submission, from the gradebook's figures.

        ``submitted``, ``due`` and ``seconds_late`` are nbgrader's ``timestamp``, ``duedate``
        (extension included) and ``total_seconds_late`` of the submission.
        """
        return Lateness(submitted, due, float(seconds_late or 0.0), self.rule(assignment))

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
