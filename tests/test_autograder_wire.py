"""Plain data from the submission's process, and judging it in the grader like the self-check."""

from __future__ import annotations

import collections
import json

import numpy as np
import pytest
import torch

from autograder.box import wire
from autograder.box.calls import decode_call, encode_call, encode_outcome
from autograder.box.calls import decode_outcome as decode_output
from autograder.box.runner import reply_for
from autograder.judge import all_specs
from autograder.judge.core import NOT_IMPLEMENTED, Judge, Raised, Unreadable, call_case


def roundtrip(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value))))


@pytest.mark.parametrize("value", [
    None, True, 7, 10**40, -2.5, 1e-300, 3 + 4j, "text", [1, [2.0, "x"]], (1, 2),
    {"a": 1, 2: (3,), (1, 2): None},
])
def test_plain_values_come_back_equal(value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


def test_special_floats_come_back():
    assert np.isnan(roundtrip(float("nan"))) and roundtrip(float("-inf")) == float("-inf")


@pytest.mark.parametrize("arr", [np.arange(6.0).reshape(2, 3), np.array([True, False]),
                                 np.zeros((0, 3), np.int32), np.arange(12).reshape(3, 4).T,
                                 np.array([1 + 2j], np.complex64)])
def test_arrays_keep_shape_dtype_and_values(arr):
    back = roundtrip(arr)
    assert back.dtype == arr.dtype and back.shape == arr.shape and np.array_equal(back, arr)


def test_numpy_scalars_torch_tensors_and_namedtuples():
    assert roundtrip(np.float32(1.5)) == np.float32(1.5)
    assert roundtrip(np.float32(1.5)).dtype == np.float32
    tensor = roundtrip(torch.ones(3, requires_grad=True))
    assert torch.is_tensor(tensor) and tensor.requires_grad and tensor.dtype == torch.float32
    batch = roundtrip(collections.namedtuple("Batch", "obs rewards")(np.ones(2), [1.0]))
    assert type(batch).__name__ == "Batch" and batch.rewards == [1.0]


class AlwaysEqual(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


class Sneaky(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), bool)


@pytest.mark.parametrize("value", [AlwaysEqual(1.0), np.zeros(3).view(Sneaky), object(),
                                   lambda: 0, np.array(["a"]), np.array([1, None]),
                                   iter([1]), type("Dict", (dict,), {})(a=1)])
def test_anything_but_plain_data_is_unreadable_and_fails(value):
    back = roundtrip(value)
    assert isinstance(back, Unreadable) and back != back and back != 1.0
    assert "0x" not in repr(back)  # no addresses: the same output always reads the same


def test_too_big_or_too_deep_is_unreadable():
    nested: list = []
    for _ in range(100):
        nested = [nested]
    assert isinstance(roundtrip(nested), Unreadable)
    assert isinstance(roundtrip(np.zeros(wire.MAX_ARRAY_BYTES // 8 + 1)), Unreadable)


@pytest.mark.parametrize("data", [
    {"a": {"dtype": "|O", "shape": [1], "b64": ""}},
    {"a": {"dtype": "<f8", "shape": [3], "b64": "AAAA"}},
    {"x": 1}, {"f": "1e999"}, {"d": [[{"l": []}, {"n": None}]]}, "not a dict", {"i": "12a"},
])
def test_forged_data_is_rejected(data):
    with pytest.raises(wire.WireError):
        wire.decode(data)
    assert isinstance(decode_output({"v": data}), Unreadable)


def test_runner_markers_come_back():
    assert decode_output({"ni": True}) is NOT_IMPLEMENTED
    assert decode_output({"raised": "ValueError: x"}) == Raised("ValueError: x")
    assert isinstance(decode_output("junk"), Unreadable)


SPECS = all_specs()
#: a learning check's bugs are broken agents, not diagnosed one by one (test_learning_checks.py)
BUGS = [(spec, bug) for spec in SPECS if not spec.learning for bug in spec.bugs]
_JUDGES: dict[tuple[str, bool], Judge] = {}


def _judge(spec, grading=False) -> Judge:
    """One judge per spec for the whole module: references and bug outputs computed once."""
    key = (spec.name, grading)
    if key not in _JUDGES:
        _JUDGES[key] = Judge.for_spec(spec, grading=grading)
    return _JUDGES[key]


def _wired(output):
    """An output as the grader gets it: encoded in the runner, JSON on a pipe, decoded."""
    return decode_output(json.loads(json.dumps(_encoded(output))))


def _encoded(output):
    return encode_outcome(output)


def _output(case, fn):
    """What the runner replies for ``case`` (its call crossed as plain data first)."""
    return reply_for(decode_call(json.loads(json.dumps(encode_call(case.box_call())))), fn, False)


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "bug"), BUGS, ids=[f"{s.name}:{b.name}" for s, b in BUGS])
def test_the_grader_judges_plain_data_like_the_self_check(spec, bug):
    judge = _judge(spec)
    outputs = [call_case(case, bug.fn) for case in judge.cases]
    direct = judge(outputs, rerun=lambda i: call_case(judge.cases[i], bug.fn))  # = run_check
    wired = judge([_wired(o) for o in outputs],
                  rerun=lambda i: _wired(call_case(judge.cases[i], bug.fn)))
    assert (wired.passed, wired.bug, wired.hint) == (direct.passed, direct.bug, direct.hint)
    assert [r.problem for r in wired.results] == [r.problem for r in direct.results]
    assert not direct.passed and direct.bug == bug.name


def test_the_runner_encodes_what_call_case_gives():
    spec = next(s for s in SPECS if s.name == "mdps.discounted_return")
    case = spec.cases(grading=False)[0]
    assert _output(case, spec.reference) == _encoded(call_case(case, spec.reference))

    def stub(rewards, gamma):
        raise NotImplementedError

    assert _output(case, stub) == {"ni": True}
    raised = _output(case, lambda r, g: 1 / 0)
    assert raised["raised"] == "ZeroDivisionError: division by zero"
    assert raised["at"].endswith("wire.py: raised = _output(case, lambda r, g: 1 / 0)")
    assert decode_output(raised).where == raised["at"]  # the line it raised on, as plain text
    assert decode_output(raised) == Raised("ZeroDivisionError: division by zero")  # same error
    assert _output(case, lambda r, g: exit())["raised"].startswith("SystemExit")


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_reference_passes_over_the_wire_with_hidden_cases(spec):
    judge = _judge(spec, grading=True)
    outputs = [_wired(call_case(case, spec.reference)) for case in judge.cases]
    assert judge(outputs).passed


def test_a_judge_computes_references_and_bug_outputs_once():
    spec = next(s for s in SPECS if s.name == "mdps.discounted_return")
    judge = Judge.for_spec(spec, grading=False)
    calls = []
    bug = spec.bugs[0]
    for _ in range(3):
        report = judge([call_case(c, bug.fn) for c in judge.cases])
        calls.append(len(judge._bugs))
    assert report.bug == bug.name and calls[0] == calls[-1]
