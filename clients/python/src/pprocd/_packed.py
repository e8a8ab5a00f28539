"""The packed form of items: many values as one JSON array, in bulk.

Inputs of a request are encoded as ONE JSON array (orjson when it is
installed, else the json module), results of a block decoded from one, so
that no google.protobuf.Value is built per item. What the user gets is what
the Value form gives (see ``_values``):

- Numbers: a number without a fraction comes back as an int when it is at
  most 2**53 in magnitude, else as a float, whatever the JSON text looked
  like (the server prints doubles as protobuf does: ``1e+15``, and 17-digit
  integers beyond 2**53).
- NaN and infinities travel as the strings ``"NaN"``, ``"Infinity"`` and
  ``"-Infinity"`` (protobuf's JSON mapping, which the server also uses when
  it hands Value-form inputs to a worker): a callable receives, and echoes,
  those strings in both forms.
- Only JSON-shaped values are sent, as by ``to_value``: None, bool, int,
  float, str, lists, tuples and dicts with str keys (subclasses of these
  too); anything else raises TypeError.

Pure functions; safe to call from any thread.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

# Neither typing nor protobuf is loaded at run time: the Python worker
# runtime (pprocd._template) uses this module, and its start counts.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, List, Sequence

_orjson: Any
try:  # orjson: 5 to 70 ns per small element, against 130 to 160 for json.
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised by the fallback test
    _orjson = None

_EXACT = 2 ** 53
_NONFINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
# Digits mapped to "0": a run of 16 zeros in the mapped text marks an
# integer printed with 16 or more digits (possibly beyond 2**53).
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_SIXTEEN_DIGITS = b"0" * 16


def _reject(obj: Any) -> Any:
    raise TypeError(f"cannot send {type(obj).__name__} {obj!r} to pprocd: values must be "
                    "JSON-shaped (None, bool, int, float, str, list, tuple, dict with str keys)")


def _plain(obj: Any) -> Any:
    """orjson's ``default``: subclasses of the JSON types (an IntEnum, a
    numpy float64, an OrderedDict...) as their base type, as to_value takes
    them; anything else is refused."""
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, (list, tuple)):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if type(obj).__name__ == "Value" and type(obj).__module__.startswith("google"):
        from ._values import from_value
        return from_value(obj)
    return _reject(obj)


def _finite(obj: Any) -> Any:
    """``obj`` with every NaN and infinity replaced by its JSON string."""
    kind = type(obj)
    if kind is float:
        return obj if math.isfinite(obj) else _NONFINITE[repr(obj)]
    if kind is list or kind is tuple:
        return [_finite(item) for item in obj]
    if kind is dict:
        return {key: _finite(item) for key, item in obj.items()}
    if isinstance(obj, (str, int)) or obj is None:
        return obj
    if isinstance(obj, float):
        return _finite(float(obj))
    if isinstance(obj, (list, tuple)):
        return [_finite(item) for item in obj]
    if isinstance(obj, Mapping):
        return {key: _finite(item) for key, item in obj.items()}
    return obj  # refused by the encoder


def _has_nonfinite(obj: Any) -> bool:
    kind = type(obj)
    if kind is float:
        return not math.isfinite(obj)
    if kind is list or kind is tuple:
        return any(_has_nonfinite(item) for item in obj)
    if kind is dict:
        return any(_has_nonfinite(item) for item in obj.values())
    if isinstance(obj, float):
        return not math.isfinite(obj)
    if isinstance(obj, (list, tuple)):
        return any(_has_nonfinite(item) for item in obj)
    if isinstance(obj, Mapping):
        return any(_has_nonfinite(item) for item in obj.values())
    return False


if _orjson is not None:
    _OPTIONS = (_orjson.OPT_PASSTHROUGH_SUBCLASS | _orjson.OPT_PASSTHROUGH_DATACLASS
                | _orjson.OPT_PASSTHROUGH_DATETIME)
    _orjson_dumps: Callable[..., bytes] = _orjson.dumps

    def _dumps(items: Any) -> bytes:
        return _orjson_dumps(items, default=_plain, option=_OPTIONS)

    loads: Callable[[bytes], Any] = _orjson.loads
else:
    _json_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                     allow_nan=True, default=_plain)

    def _dumps(items: Any) -> bytes:
        return _json_encoder.encode(items).encode("utf-8")

    loads = json.loads


def dumps(items: Any) -> bytes:
    """``items`` (a list, usually of one request's inputs) as compact JSON
    (UTF-8), NaN and infinities as their strings. Raises TypeError for a
    value that is not JSON-shaped or an int beyond 64 bits."""
    try:
        data = _dumps(items)
    except TypeError as error:
        if "64-bit" not in str(error):
            # orjson names the type only; the Value form's message says more.
            cause = error.__cause__
            raise (cause if isinstance(cause, TypeError) else TypeError(str(error))) from None
        # An int beyond 64 bits: a double, as the Value form sends it.
        data = _dumps(_big_ints_as_floats(items))
    # orjson prints NaN and infinities as null, json as NaN/Infinity: both
    # texts then hold one of these, which a batch without them rarely has.
    if (b"null" in data or b"NaN" in data or b"Infinity" in data) and _has_nonfinite(items):
        data = _dumps(_finite(items))
    return data


def _big_ints_as_floats(obj: Any) -> Any:
    kind = type(obj)
    if kind is int:
        return obj if -(2 ** 63) <= obj < 2 ** 64 else float(obj)
    if isinstance(obj, (list, tuple)):
        return [_big_ints_as_floats(item) for item in obj]
    if isinstance(obj, Mapping):
        return {key: _big_ints_as_floats(item) for key, item in obj.items()}
    return obj


def _as_value_form(obj: Any) -> Any:
    """What ``from_value`` would give for the number(s) in ``obj``: an
    integral number within 2**53 as an int, any other as a float."""
    kind = type(obj)
    if kind is float:
        return int(obj) if obj.is_integer() and -_EXACT <= obj <= _EXACT else obj
    if kind is int:
        return obj if -_EXACT <= obj <= _EXACT else float(obj)
    if kind is list:
        return [_as_value_form(item) for item in obj]
    if kind is dict:
        return {key: _as_value_form(item) for key, item in obj.items()}
    return obj


def loads_values(data: bytes) -> List[Any]:
    """The values of one ResultBlock (a JSON array), as the Value form gives
    them (see the module doc). Costs one ``loads`` of the whole array, plus
    a scan of its bytes; only a block that prints a number in exponent form
    at 1e15 or an integer of 16 digits or more is walked item by item."""
    values: List[Any] = loads(data)
    if b"e+15" in data or _SIXTEEN_DIGITS in data.translate(_DIGITS_TO_ZERO):
        values = [_as_value_form(item) for item in values]
    return values


def loads_value(data: bytes) -> Any:
    """One JSON value (a channel message, a callable's arguments), as the
    Value form gives it."""
    return _as_value_form(loads(data))


def encode_batches(items: Sequence[Any], max_bytes: int) -> List[bytes]:
    """``items`` as JSON arrays of at most ``max_bytes`` each where possible
    (a batch too large is split in halves; one item alone may exceed it)."""
    data = dumps(items)
    if len(data) <= max_bytes or len(items) < 2:
        return [data]
    half = len(items) // 2
    return encode_batches(items[:half], max_bytes) + encode_batches(items[half:], max_bytes)


def join(encoded: List[bytes]) -> bytes:
    """The JSON array of values each already encoded (by :func:`dumps`)."""
    return b"[" + b",".join(encoded) + b"]"


__all__ = ["dumps", "encode_batches", "join", "loads", "loads_value", "loads_values"]
