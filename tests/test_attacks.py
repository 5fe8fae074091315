"""The attack bank, through the real CLI: no attack raises a score, hurts a classmate or escapes.

One batch holds the honest sample class (notebook 02) and every attack of
``tests/attacks/bank.py``, graded with two workers and a due date, so attacks run next to honest
students (each submitted on time, with nbgrader's ``timestamp.txt``). The honest baseline is the
sample class graded without any attacker (``graded_class``).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from attacks.bank import (
    ATTACKS,
    LATE_FRACTION,
    LATE_POLICY,
    ON_TIME_SAVED,
    ON_TIME_STAMP,
    Attack,
    build,
)
from conftest import EDGE_ASSIGNMENT, REPO_ROOT, GradedBatch, grade_batch, require_sandbox

from autograder.paths import SAMPLE_CLASS_DIR

pytestmark = pytest.mark.slow


def student(attack: Attack) -> str:
    return f"x-{attack.name}"


def _hashes(paths) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


class Listener:
    """A TCP server on the host's 127.0.0.1 that records every connection."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except OSError:
                continue
            self.connections.append(str(addr))
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@dataclass
class AttackRun:
    batch: GradedBatch
    subs: Path
    canary: Path
    marker: str
    before: dict[str, str]
    after: dict[str, str] = field(default_factory=dict)
    connections: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)


def _processes_with(marker: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(pid)
    return found


def _date(notebook: Path, stamp: str | None, saved: str) -> None:
    """Lay out ``timestamp.txt`` next to ``notebook`` and set the notebook's own time."""
    if stamp is not None:
        (notebook.parent / "timestamp.txt").write_bytes(stamp.encode("utf-8", "surrogatepass"))
    when = datetime.fromisoformat(saved).timestamp()
    os.utime(notebook, (when, when))


def _watched(subs: Path, canary: Path) -> list[Path]:
    honest = [p for p in subs.rglob("*.ipynb") if not p.parts[-3].startswith("x-")]
    return [*sorted((REPO_ROOT / "solutions").glob("*.py")),
            *sorted((REPO_ROOT / "notebooks").glob("*.ipynb")),
            *sorted(SAMPLE_CLASS_DIR.rglob("*.ipynb")), *honest, *canary.iterdir()]


@pytest.fixture(scope="module")
def attack_run(tmp_path_factory) -> AttackRun:
    require_sandbox()
    root = tmp_path_factory.mktemp("attacks")
    subs, out, canary = root / "subs", root / "out", root / "canary"
    canary.mkdir()
    (canary / "canary.txt").write_text("untouched")
    marker = f"autograder-attack-{uuid.uuid4().hex}"
    listener = Listener()
    tokens = {"REPO": str(REPO_ROOT), "OUT": str(out), "SUBS": str(subs),
              "CANARY": str(canary), "MARKER": marker, "PORT": str(listener.port)}
    bases = {}
    for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
        source = SAMPLE_CLASS_DIR / name / EDGE_ASSIGNMENT / f"{EDGE_ASSIGNMENT}.ipynb"
        target = subs / name / EDGE_ASSIGNMENT / source.name
        target.parent.mkdir(parents=True)
        target.write_bytes(source.read_bytes())
        _date(target, ON_TIME_STAMP, ON_TIME_SAVED)
        bases[name] = json.loads(json.dumps(nbformat.read(source, as_version=4)))
    for attack in ATTACKS:
        target = subs / student(attack) / EDGE_ASSIGNMENT / f"{EDGE_ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_text(build(attack, bases[attack.base], tokens), encoding="utf-8")
        _date(target, attack.stamp, attack.saved)
    policy = root / "late.toml"
    policy.write_text(LATE_POLICY)
    run = AttackRun(None, subs, canary, marker, _hashes(_watched(subs, canary)))  # type: ignore
    try:
        run.batch = grade_batch(subs, out, "--assignments", EDGE_ASSIGNMENT, "--workers", "2",
                                "--late", str(policy))
    finally:
        listener.close()
    run.after = _hashes(_watched(subs, canary))
    run.connections = listener.connections
    run.leftovers = _processes_with(marker)
    return run


def _total(batch: GradedBatch, name: str) -> tuple[float, float]:
    """The points a student keeps (after the late penalty) and the points possible."""
    rows = [r for r in batch.rows if r["student"] == name and r["assignment"] == EDGE_ASSIGNMENT]
    assert rows, f"no rows for {name}"
    return (sum(float(r["score"] or 0) - float(r["late_penalty"]) for r in rows),
            sum(float(r["max_score"]) for r in rows))


def test_the_batch_finishes_with_a_row_for_everyone(attack_run):
    assert attack_run.batch.returncode == 0, attack_run.batch.stderr[-3000:]
    students = {r["student"] for r in attack_run.batch.rows}
    assert {student(a) for a in ATTACKS} | {"alice", "bob", "carol", "dave", "erin",
                                             "frank"} == students


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_no_attack_scores_above_its_honest_base(attack_run, graded_class, attack):
    score, max_score = _total(attack_run.batch, student(attack))
    honest, honest_max = _total(graded_class, attack.base)
    assert score <= honest
    assert max_score == honest_max  # points come from the specs, never from the notebook
    rows = [r for r in attack_run.batch.rows if r["student"] == student(attack)]
    if attack.reason:
        reasons = [r["reason"] for r in rows]
        assert any(attack.reason in r for r in reasons), reasons
    for grade_id in attack.zeroed:
        row = attack_run.batch.row(student(attack), grade_id)
        assert float(row["score"] or 0) == 0 < float(row["max_score"]), row
        honest = graded_class.row(attack.base, grade_id)
        assert float(honest["score"]) == float(honest["max_score"]), honest  # it would pass
    if attack.late:  # never the on-time grade when the notebook itself is late
        assert score <= honest * (1 - LATE_FRACTION)
    if attack.time_source:
        assert all(attack.time_source in r["time_source"] for r in rows), rows[0]


def test_the_honest_class_is_graded_as_if_alone(attack_run, graded_class):
    def honest(batch):
        return [{k: v for k, v in r.items() if k != "time_source"} for r in batch.rows
                if r["assignment"] == EDGE_ASSIGNMENT and not r["student"].startswith("x-")]

    assert honest(attack_run.batch) == honest(graded_class)  # on time: no penalty either
    assert {r["time_source"] for r in attack_run.batch.rows
            if not r["student"].startswith("x-")} == {"timestamp.txt"}


def test_no_terminal_escape_or_lone_surrogate_reaches_the_instructor(attack_run):
    out = attack_run.batch.out
    texts = [*out.glob("logs/*"), out / "grades.csv", *out.glob("exports/*.csv"),
             *out.glob("feedback/*/*/*.html")]
    assert len(list(out.glob("logs/*.log"))) == len(ATTACKS) + 6
    for path in texts:
        data = path.read_bytes()
        assert b"\x1b" not in data and b"\xc2\x9b" not in data, path
        text = data.decode("utf-8")  # strict: no lone surrogate was written (as CESU or else)
        if path.suffix == ".json":  # nor escaped in JSON, to come back on reading
            assert not _lone_surrogates(json.loads(text)), path
    assert "\x1b" not in attack_run.batch.stderr and "\x1b" not in attack_run.batch.stdout
    noisy = (out / "logs" / "x-surrogates_and_escapes__02_bellman.log").read_text()
    assert "print: \ufffd" in noisy  # the output is there, cleaned


def _lone_surrogates(value) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_lone_surrogates(k) or _lone_surrogates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_lone_surrogates(v) for v in value)
    return False


def test_nothing_outside_the_sandbox_changed(attack_run):
    assert attack_run.after == attack_run.before
    assert sorted(p.name for p in attack_run.canary.iterdir()) == ["canary.txt"]
    assert not Path(f"/tmp/{attack_run.marker}").exists()
    assert not list(REPO_ROOT.rglob(f"*{attack_run.marker}*"))
    gradebook = (attack_run.batch.out / "gradebook.db").read_bytes()
    assert attack_run.marker.encode() not in gradebook


def test_no_network_and_no_process_left_behind(attack_run):
    assert attack_run.connections == []
    assert attack_run.leftovers == []


def test_the_gradebook_holds_the_graded_scores(attack_run):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{attack_run.batch.out / 'gradebook.db'}") as gb:
        for attack in ATTACKS:
            submission = gb.find_submission(EDGE_ASSIGNMENT, student(attack))
            kept = submission.score - (submission.late_submission_penalty or 0)
            assert kept == pytest.approx(_total(attack_run.batch, student(attack))[0])
            grades = [g for nb in submission.notebooks for g in nb.grades]
            assert grades and all(g.manual_score is None for g in grades)
