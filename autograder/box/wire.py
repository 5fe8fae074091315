"""Plain data between a submission's process and the grader: what a function returned, as JSON.

The sandboxed runner encodes each output with :func:`encode`; the grader rebuilds it with
:func:`decode`. Only data crosses: numbers, strings, ``None``, lists, tuples, dicts, numpy
arrays (numeric and boolean dtypes, as shape + dtype + base64 bytes) and torch tensors (the same,
plus ``requires_grad``). Nothing is unpickled and no code of the submission ever runs in the
grader: anything else a function returns (an object whose ``__eq__`` is always true, a
generator, a module) arrives as an :class:`Unreadable` holding its type name and a short
``repr``, which fails every comparison. Decoding has a budget (:data:`MAX_ITEMS` values and
:data:`MAX_DECODED_BYTES` of arrays per message, namedtuple types made once per shape), so a
reply built to be expensive to read costs the grader no more than a plain one.

The grader also sends the cases' inputs the other way (:func:`encode_input`): the same format
plus a few tags only the grader writes, for rlkit's tabular MDP, torch dtypes and numpy
generators (``{"mdp": ...}``, ``{"dtype": "float32"}``, ``{"rng": state}``).

Every encoded value is a JSON object with one tag key, so that a string can never be mistaken
for a tag::

    {"n": null} {"b": true} {"i": "123"} {"f": 0.5} {"f": "nan"} {"c": [re, im]} {"s": "text"}
    {"l": [...]} {"t": [...]} {"d": [[key, value], ...]} {"nt": ["Name", ["field", ...], [...]]}
    {"a": {"dtype": "<f8", "shape": [2, 3], "b64": "..."}} {"tt": {...array..., "grad": false}}
    {"u": ["TypeName", "repr"]}
"""

from __future__ import annotations

import base64
import functools
import keyword
import math
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

#: the largest array (in bytes) that crosses; a bigger one arrives as an Unreadable.
MAX_ARRAY_BYTES = 16 * 2**20
#: the most values (scalars, items) one output may hold, and how deeply it may nest.
MAX_ITEMS = 2_000_000
MAX_DEPTH = 32
#: the longest string that crosses (longer ones are cut).
MAX_STRING = 100_000
#: the dtype kinds that cross: bool, signed/unsigned integers, floats, complex numbers.
_KINDS = "biufc"


class _TooBig(Exception):
    pass


class Unreadable:
    """An output that is not plain data (numbers, arrays, strings, containers of them).

    The grader reads a submission's outputs back as plain data only; anything else arrives as
    this: the name of its type and a short ``repr``, never the object. It compares equal to
    nothing, so it always fails a case.
    """

    def __init__(self, type_name: str, text: str = "") -> None:
        self.type_name = str(type_name)
        self.text = str(text)

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>" if self.text else f"<{self.type_name}>"

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__


def _type_name(value: Any) -> str:
    try:
        name = type(value).__qualname__
    except Exception:  # noqa: BLE001 - a hostile metaclass
        return "object"
    return name if isinstance(name, str) else "object"


def _why_unreadable(value: Any) -> str:
    """A short, deterministic note on a value that is not plain data (no addresses)."""
    if isinstance(value, np.ndarray) and type(value).__module__.startswith("numpy"):
        return f"an array of dtype {value.dtype} (not numeric), shape {value.shape}"
    return "not plain data (numbers, arrays, strings, lists, tuples, dicts)"


def _float(value: float) -> Any:
    return value if math.isfinite(value) else repr(value)  # "nan", "inf", "-inf"


def _array(arr: np.ndarray) -> dict[str, Any]:
    if arr.dtype.kind not in _KINDS or arr.dtype.hasobject:
        raise TypeError
    if arr.nbytes > MAX_ARRAY_BYTES:
        raise _TooBig
    return {"dtype": arr.dtype.str, "shape": list(arr.shape),
            "b64": base64.b64encode(arr.tobytes(order="C")).decode("ascii")}


class _Encoder:
    def __init__(self) -> None:
        self.items = 0

    def count(self, n: int = 1) -> None:
        self.items += n
        if self.items > MAX_ITEMS:
            raise _TooBig

    def __call__(self, value: Any, depth: int = 0) -> dict[str, Any]:
        self.count()
        if depth > MAX_DEPTH:
            raise _TooBig
        kind = type(value)  # exact types only: a subclass could override anything
        if value is None:
            return {"n": None}
        if kind is bool:
            return {"b": value}
        if kind is int:
            return {"i": str(value)}
        if kind is float:
            return {"f": _float(value)}
        if kind is complex:
            return {"c": [_float(value.real), _float(value.imag)]}
        if kind is str:
            return {"s": value[:MAX_STRING]}
        if kind is list:
            return {"l": [self(v, depth + 1) for v in list.__iter__(value)]}
        if kind is tuple:
            return {"t": [self(v, depth + 1) for v in tuple.__iter__(value)]}
        if kind is dict:
            return {"d": [[self(k, depth + 1), self(v, depth + 1)]
                          for k, v in dict.items(value)]}
        if isinstance(value, tuple) and hasattr(kind, "_fields"):  # a namedtuple
            fields = [str(f) for f in kind._fields]
            return {"nt": [_type_name(value), fields,
                           [self(v, depth + 1) for v in tuple.__iter__(value)]]}
        if isinstance(value, np.ndarray | np.generic) and kind.__module__.startswith("numpy"):
            arr = np.asarray(value)
            self.count(int(arr.size))
            return {"a": _array(arr)}
        torch = sys.modules.get("torch")
        if torch is not None and type(value) in (torch.Tensor, torch.nn.Parameter):
            tensor = value.detach().cpu()
            arr = tensor.resolve_conj().numpy() if tensor.is_complex() else tensor.numpy()
            self.count(int(arr.size))
            return {"tt": {**_array(arr), "grad": bool(value.requires_grad),
                           "torch_dtype": str(value.dtype)}}
        raise TypeError


def encode(value: Any) -> dict[str, Any]:
    """Encode one output as plain JSON data (an unsupported value becomes an Unreadable tag)."""
    try:
        return _Encoder()(value)
    except _TooBig:
        return {"u": [_type_name(value), "too large to read back"]}
    except RecursionError:
        return {"u": [_type_name(value), "nested too deeply"]}
    except Exception:  # noqa: BLE001 - not plain data, or a hostile object
        return {"u": [_type_name(value), _why_unreadable(value)]}


# ----------------------------------------------------------------------------- decoding


class WireError(ValueError):
    """Encoded data that does not follow the format (a garbled or forged message)."""


#: the most bytes of array data one decoded message may hold (a box has 2 GiB of memory; the
#: grader reads many boxes' replies).
MAX_DECODED_BYTES = 64 * 2**20
#: the most fields a namedtuple may have.
MAX_FIELDS = 64
#: the most distinct namedtuple types one message may hold (each is a class to make).
MAX_RECORD_TYPES = 64


class _Budget:
    """What one message may still cost to decode: values and array bytes."""

    def __init__(self) -> None:
        self.items = 0
        self.bytes = 0
        self.record_types: set[tuple[str, tuple[str, ...]]] = set()

    def spend(self, items: int = 1, nbytes: int = 0) -> None:
        self.items += items
        self.bytes += nbytes
        if self.items > MAX_ITEMS or self.bytes > MAX_DECODED_BYTES:
            raise WireError("the message is too large to read")


def _decode_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise WireError("bad float")
    if isinstance(value, str):
        if value not in ("nan", "inf", "-inf"):
            raise WireError("bad float")
        return float(value)
    return float(value)


def _decode_array(spec: Any, budget: _Budget | None = None) -> np.ndarray:
    if not isinstance(spec, Mapping):
        raise WireError("bad array")
    try:
        dtype = np.dtype(str(spec["dtype"]))
        shape = tuple(int(n) for n in spec["shape"])
        if len(shape) > MAX_DEPTH:
            raise ValueError("too many dimensions")
        encoded = str(spec["b64"])
        if budget is not None:
            budget.spend(1, len(encoded) * 3 // 4)
        data = base64.b64decode(encoded, validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise WireError(f"bad array: {exc}") from None
    if dtype.kind not in _KINDS or dtype.hasobject or any(n < 0 for n in shape):
        raise WireError("bad array dtype or shape")
    if len(data) != dtype.itemsize * math.prod(shape):
        raise WireError("array size does not match its shape")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _decode_tensor(spec: Any, budget: _Budget | None = None) -> Any:
    arr = _decode_array(spec, budget)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency of the course
        return arr
    tensor = torch.from_numpy(arr)
    if spec.get("grad") is True and (tensor.is_floating_point() or tensor.is_complex()):
        tensor.requires_grad_(True)
    return tensor


def _hashable(key: Any) -> Any:
    try:
        hash(key)
    except TypeError:
        raise WireError("unhashable dict key") from None
    return key


def decode(data: Any, depth: int = 0, budget: _Budget | None = None) -> Any:
    """Rebuild an output from :func:`encode`'s data (numbers, arrays, containers; no objects).

    Raises:
        WireError: the data does not follow the format, or is over the decoding budget.

    """
    budget = _Budget() if budget is None else budget
    budget.spend()
    if depth > MAX_DEPTH + 2:
        raise WireError("nested too deeply")
    if not isinstance(data, Mapping) or len(data) != 1:
        raise WireError("not an encoded value")
    (tag, value), = data.items()
    if tag == "n":
        return None
    if tag == "b":
        if not isinstance(value, bool):
            raise WireError("bad bool")
        return value
    if tag == "i":
        try:
            return int(str(value)[:10_000])
        except ValueError:
            raise WireError("bad int") from None
    if tag == "f":
        return _decode_float(value)
    if tag == "c":
        if not isinstance(value, list) or len(value) != 2:
            raise WireError("bad complex")
        return complex(_decode_float(value[0]), _decode_float(value[1]))
    if tag == "s":
        if not isinstance(value, str):
            raise WireError("bad string")
        budget.spend(0, len(value))
        return value
    if tag in ("l", "t"):
        if not isinstance(value, list):
            raise WireError("bad sequence")
        items = [decode(v, depth + 1, budget) for v in value]
        return items if tag == "l" else tuple(items)
    if tag == "d":
        if not isinstance(value, list) or not all(
                isinstance(p, list) and len(p) == 2 for p in value):
            raise WireError("bad dict")
        return {_hashable(decode(k, depth + 1, budget)): decode(v, depth + 1, budget)
                for k, v in value}
    if tag == "nt":
        return _decode_namedtuple(value, depth, budget)
    if tag == "a":
        arr = _decode_array(value, budget)
        return arr[()] if arr.ndim == 0 else arr
    if tag == "tt":
        return _decode_tensor(value, budget)
    if tag == "u":
        if not isinstance(value, list) or len(value) != 2:
            raise WireError("bad unreadable")
        return Unreadable(str(value[0])[:200], str(value[1])[:200])
    raise WireError(f"unknown tag {str(tag)[:20]!r}")


@functools.lru_cache(maxsize=256)
def _namedtuple_type(type_name: str, fields: tuple[str, ...]) -> type:
    """One class per name and fields: making a class is what costs, not the values."""
    from collections import namedtuple

    return namedtuple(type_name, fields, rename=True)  # noqa: PYI024 - field names are data


def _decode_namedtuple(value: Any, depth: int, budget: _Budget) -> Any:
    if not isinstance(value, list) or len(value) != 3 or not isinstance(value[1], list):
        raise WireError("bad namedtuple")
    name, fields, items = value
    if len(fields) > MAX_FIELDS or not isinstance(items, list) or len(items) != len(fields):
        raise WireError("bad namedtuple")
    budget.spend(len(fields))
    items = [decode(v, depth + 1, budget) for v in items]
    clean = tuple(f[:64] if isinstance(f, str) and f.isidentifier() else "_" for f in fields)
    type_name = str(name)[:200].rsplit(".", 1)[-1]
    if not type_name.isidentifier() or keyword.iskeyword(type_name):
        type_name = "Record"
    key = (type_name[:64], clean)
    budget.record_types.add(key)
    if len(budget.record_types) > MAX_RECORD_TYPES:
        raise WireError("too many kinds of records in one message")
    return _namedtuple_type(*key)(*items)


# ----------------------------------------------------------------------------- inputs


def encode_input(value: Any) -> dict[str, Any]:
    """Encode a case's input for the sandbox.

    :func:`encode`'s format plus rlkit's tabular MDP, torch dtypes and numpy generators,
    anywhere inside lists, tuples and dicts.

    Raises:
        TypeError: a value that cannot cross (the case must be built from plain data).

    """
    kind = type(value)
    if kind is list:
        return {"l": [encode_input(v) for v in value]}
    if kind is tuple:
        return {"t": [encode_input(v) for v in value]}
    if kind is dict:
        return {"d": [[encode_input(k), encode_input(v)] for k, v in value.items()]}
    if isinstance(value, np.random.Generator):
        return {"rng": value.bit_generator.state}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.dtype):
        return {"dtype": str(value).removeprefix("torch.")}
    if kind.__module__ == "rlkit.mdp" and kind.__name__ == "TabularMDP":
        fields = {name: getattr(value, name) for name in _MDP_FIELDS}
        return {"mdp": encode_input(fields)}
    encoded = encode(value)
    if "u" in encoded:
        raise TypeError(f"a case's input cannot cross into the sandbox: {_type_name(value)}")
    return encoded


#: the fields a :class:`rlkit.mdp.TabularMDP` is rebuilt from.
_MDP_FIELDS = ("P", "R", "gamma", "mu", "terminal", "state_names", "action_names")


def decode_input(data: Any) -> Any:
    """Rebuild a case's input from :func:`encode_input`'s data (in the sandbox)."""
    if isinstance(data, Mapping) and len(data) == 1:
        (tag, value), = data.items()
        if tag == "l":
            return [decode_input(v) for v in value]
        if tag == "t":
            return tuple(decode_input(v) for v in value)
        if tag == "d":
            return {decode_input(k): decode_input(v) for k, v in value}
        if tag == "rng":
            rng = np.random.default_rng()
            rng.bit_generator.state = value
            return rng
        if tag == "dtype":
            import torch

            return getattr(torch, str(value))
        if tag == "mdp":
            from rlkit.mdp import TabularMDP

            return TabularMDP(**decode_input(value))
    return decode(data, budget=_Budget())
