"""Plain data between a submission's process and the grader: what a function returned, as JSON.

The sandboxed runner encodes each output with :func:`encode`; the grader rebuilds it with
:func:`decode`. Only data crosses: numbers, strings, ``None``, lists, tuples, dicts, numpy
arrays (numeric and boolean dtypes, as shape + dtype + base64 bytes) and torch tensors (the same,
plus ``requires_grad``). Nothing is unpickled and no code of the submission ever runs in the
grader: anything else a function returns (an object whose ``__eq__`` is always true, a
generator, a module) arrives as an :class:`~autograder.judge.core.Unreadable` holding its type
name and a short ``repr``, which fails every comparison.

Every encoded value is a JSON object with one tag key, so that a string can never be mistaken
for a tag::

    {"n": null} {"b": true} {"i": "123"} {"f": 0.5} {"f": "nan"} {"c": [re, im]} {"s": "text"}
    {"l": [...]} {"t": [...]} {"d": [[key, value], ...]} {"nt": ["Name", ["field", ...], [...]]}
    {"a": {"dtype": "<f8", "shape": [2, 3], "b64": "..."}} {"tt": {...array..., "grad": false}}
    {"u": ["TypeName", "repr"]}
"""

from __future__ import annotations

import base64
import keyword
import math
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from autograder.judge.core import Unreadable

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


def _decode_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise WireError("bad float")
    if isinstance(value, str):
        if value not in ("nan", "inf", "-inf"):
            raise WireError("bad float")
        return float(value)
    return float(value)


def _decode_array(spec: Any) -> np.ndarray:
    if not isinstance(spec, Mapping):
        raise WireError("bad array")
    try:
        dtype = np.dtype(str(spec["dtype"]))
        shape = tuple(int(n) for n in spec["shape"])
        data = base64.b64decode(str(spec["b64"]), validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise WireError(f"bad array: {exc}") from None
    if dtype.kind not in _KINDS or dtype.hasobject or any(n < 0 for n in shape):
        raise WireError("bad array dtype or shape")
    if len(data) != dtype.itemsize * math.prod(shape):
        raise WireError("array size does not match its shape")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _decode_tensor(spec: Any) -> Any:
    arr = _decode_array(spec)
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


def decode(data: Any, depth: int = 0) -> Any:
    """Rebuild an output from :func:`encode`'s data (numbers, arrays, containers; no objects)."""
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
        return value
    if tag in ("l", "t"):
        if not isinstance(value, list):
            raise WireError("bad sequence")
        items = [decode(v, depth + 1) for v in value]
        return items if tag == "l" else tuple(items)
    if tag == "d":
        if not isinstance(value, list) or not all(
                isinstance(p, list) and len(p) == 2 for p in value):
            raise WireError("bad dict")
        return {_hashable(decode(k, depth + 1)): decode(v, depth + 1) for k, v in value}
    if tag == "nt":
        return _decode_namedtuple(value, depth)
    if tag == "a":
        arr = _decode_array(value)
        return arr[()] if arr.ndim == 0 else arr
    if tag == "tt":
        return _decode_tensor(value)
    if tag == "u":
        if not isinstance(value, list) or len(value) != 2:
            raise WireError("bad unreadable")
        return Unreadable(str(value[0])[:200], str(value[1])[:200])
    raise WireError(f"unknown tag {str(tag)[:20]!r}")


def _decode_namedtuple(value: Any, depth: int) -> Any:
    from collections import namedtuple

    if not isinstance(value, list) or len(value) != 3 or not isinstance(value[1], list):
        raise WireError("bad namedtuple")
    name, fields, items = value
    items = [decode(v, depth + 1) for v in items] if isinstance(items, list) else None
    if items is None or len(items) != len(fields):
        raise WireError("bad namedtuple")
    clean = [f if isinstance(f, str) and f.isidentifier() else "_" for f in fields]
    type_name = str(name).rsplit(".", 1)[-1]
    if not type_name.isidentifier() or keyword.iskeyword(type_name):
        type_name = "Record"
    cls = namedtuple(type_name, clean, rename=True)  # noqa: PYI024 - field names are data
    return cls(*items)
