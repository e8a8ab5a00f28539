"""The worker wire (proto/pprocd/wire/v1/wire.proto) in the protobuf
encoding, written out by hand for the Python template and its workers.

The template starts for a caller's first call of a function, and a fresh
worker starts for each item: importing the protobuf runtime would cost
them more than the rest of their start together (measured: about three
times as much CPU as importing a small module). These messages are small
and few; the generated ``pprocd.wire.v1.wire_pb2`` stays the reference,
and the tests decode everything written here with it.

Only what the runtime reads is decoded (TemplateRequest, TaskFrame and the
google.protobuf.Values of channel input); only what it writes is encoded
(TemplateEvent, ResultFrame and what they hold). Unknown fields are skipped,
as protobuf does.
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator, List, Optional, Tuple

_VARINT = 0
_FIXED64 = 1
_LENGTH = 2
_FIXED32 = 5
_EXACT = 2 ** 53
_DOUBLE = struct.Struct("<d")

# Enum values of pprocd.v1 (item.proto).
ERROR_KIND_RAISED = 1
ERROR_KIND_INVALID_ARGUMENT = 5
ERROR_KIND_MEMORY_LIMIT = 6
ITEM_STATS_UNSPECIFIED = 0
ITEM_STATS_PER_ITEM = 1
ITEM_STATS_PER_CHUNK = 2
ITEM_STATS_NONE = 3
LOG_STREAM_STDOUT = 1
LOG_STREAM_STDERR = 2


# --- Encoding ---------------------------------------------------------------


def varint(value: int) -> bytes:
    """A varint; a negative value as protobuf writes an int32/int64: its
    64-bit two's complement (ten bytes)."""
    if value < 0:
        value &= 0xFFFFFFFFFFFFFFFF
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return varint((field << 3) | wire_type)


def int_field(field: int, value: int) -> bytes:
    """A varint field; nothing for 0 (proto3's default is not written)."""
    return _key(field, _VARINT) + varint(value) if value else b""


def bytes_field(field: int, data: bytes) -> bytes:
    """A length-delimited field (bytes, a string's UTF-8, a message),
    written even when empty (a message in a oneof must be)."""
    return _key(field, _LENGTH) + varint(len(data)) + data


def string_field(field: int, text: str) -> bytes:
    """A string field; nothing for "" (proto3's default)."""
    return bytes_field(field, text.encode("utf-8", "replace")) if text else b""


_NULL = b"\x08\x00"
_TRUE = b"\x20\x01"
_FALSE = b"\x20\x00"


def encode_value(obj: Any) -> bytes:
    """A google.protobuf.Value of a JSON-shaped Python value, as
    ``_values.to_value`` makes it: None, bool, int, float, str, lists and
    tuples, dicts with str keys (subclasses too). Raises TypeError for
    anything else, OverflowError for an int beyond a double."""
    kind = type(obj)
    if kind is str:
        return bytes_field(3, obj.encode("utf-8"))
    if kind is int or kind is float:
        return b"\x11" + _DOUBLE.pack(float(obj))
    if obj is None:
        return _NULL
    if kind is bool:
        return _TRUE if obj else _FALSE
    if kind is list or kind is tuple:
        return bytes_field(6, b"".join([bytes_field(1, encode_value(item)) for item in obj]))
    if kind is dict:
        return bytes_field(5, _encode_fields(obj))
    if isinstance(obj, bool):
        return _TRUE if obj else _FALSE
    if isinstance(obj, (int, float)):
        return b"\x11" + _DOUBLE.pack(float(obj))
    if isinstance(obj, str):
        return bytes_field(3, str(obj).encode("utf-8"))
    if isinstance(obj, (list, tuple)):
        return bytes_field(6, b"".join([bytes_field(1, encode_value(item)) for item in obj]))
    from collections.abc import Mapping
    if isinstance(obj, Mapping):
        return bytes_field(5, _encode_fields(obj))
    raise TypeError(f"cannot send {type(obj).__name__} {obj!r} to pprocd: values must be "
                    "JSON-shaped (None, bool, int, float, str, list, tuple, dict with str keys)")


def _encode_fields(mapping: Any) -> bytes:
    entries = []
    for key, item in mapping.items():
        if not isinstance(key, str):
            raise TypeError(f"cannot send a dict with key {key!r} to pprocd: keys must be str")
        entries.append(bytes_field(1, bytes_field(1, key.encode("utf-8"))
                                   + bytes_field(2, encode_value(item))))
    return b"".join(entries)


def template_started(error: str) -> bytes:
    """TemplateEvent{started{error}}."""
    return bytes_field(3, string_field(1, error))


def worker_spawned(worker_id: int, pid: int) -> bytes:
    """TemplateEvent{spawned{worker_id, pid}}."""
    return bytes_field(1, int_field(1, worker_id) + int_field(2, pid))


def worker_exited(worker_id: int, pid: int, exit_code: int, signal: int,
                  spawn_error: str = "") -> bytes:
    """TemplateEvent{exited{...}}."""
    return bytes_field(2, int_field(1, worker_id) + int_field(2, pid) + int_field(3, exit_code)
                       + int_field(4, signal) + string_field(5, spawn_error))


def item_stats(wall_us: int, cpu_us: int, max_rss_kib: int, worker_pid: int,
               start_unix_us: int) -> bytes:
    """The body of a pprocd.v1.ItemStats."""
    return (int_field(1, wall_us) + int_field(2, cpu_us) + int_field(3, max_rss_kib)
            + int_field(4, worker_pid) + int_field(5, start_unix_us))


def log_record(stream: int, data: bytes, dropped_bytes: int) -> bytes:
    """The body of a pprocd.v1.LogRecord."""
    return int_field(1, stream) + (bytes_field(2, data) if data else b"") + int_field(
        3, dropped_bytes)


def item_error(kind: int, message: str, stderr_tail: str = "") -> bytes:
    """The body of a pprocd.v1.ItemError."""
    return int_field(1, kind) + string_field(2, message) + string_field(5, stderr_tail)


# ResultFrame fields.
RESULT_FRAME_TASK_ID = 1
RESULT_FRAME_RESULTS = 2
RESULT_FRAME_BLOCKS = 3


# --- Decoding ---------------------------------------------------------------


def _read_varint(data: bytes, pos: int) -> Tuple[int, int]:
    result = 0
    shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def fields(data: bytes) -> Iterator[Tuple[int, Any]]:
    """(field number, value) of each field of a message: an int for a
    varint or fixed field, bytes for a length-delimited one. Raises
    ValueError (or IndexError) for malformed data."""
    pos = 0
    end = len(data)
    while pos < end:
        key, pos = _read_varint(data, pos)
        wire_type = key & 7
        value: Any
        if wire_type == _VARINT:
            value, pos = _read_varint(data, pos)
        elif wire_type == _LENGTH:
            length, pos = _read_varint(data, pos)
            if pos + length > end:
                raise ValueError("truncated field")
            value = data[pos:pos + length]
            pos += length
        elif wire_type == _FIXED64:
            value = int.from_bytes(data[pos:pos + 8], "little")
            pos += 8
        elif wire_type == _FIXED32:
            value = int.from_bytes(data[pos:pos + 4], "little")
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
        if pos > end:
            raise ValueError("truncated message")
        yield key >> 3, value


def decode_value(data: bytes) -> Any:
    """A google.protobuf.Value as plain Python, as ``_values.from_value``
    gives it: a number without a fraction within 2**53 as an int."""
    result: Any = None
    for field, value in fields(data):
        if field == 2:
            number = _DOUBLE.unpack(value.to_bytes(8, "little"))[0]
            result = int(number) if number.is_integer() and -_EXACT <= number <= _EXACT else number
        elif field == 3:
            result = value.decode("utf-8")
        elif field == 4:
            result = bool(value)
        elif field == 5:
            struct_value = {}
            for entry_field, entry in fields(value):
                if entry_field != 1:
                    continue
                key = ""
                item: Any = None
                for part_field, part in fields(entry):
                    if part_field == 1:
                        key = part.decode("utf-8")
                    elif part_field == 2:
                        item = decode_value(part)
                struct_value[key] = item
            result = struct_value
        elif field == 6:
            result = [decode_value(item) for number, item in fields(value) if number == 1]
        elif field == 1:
            result = None
    return result


def template_request(data: bytes) -> Tuple[str, int, str]:
    """("spawn" or "kill", worker_id, callable) of a TemplateRequest
    (callable: SpawnWorker.callable, "" when not given); ("", 0, "") when it
    holds neither."""
    kind = ""
    worker_id = 0
    callable_name = ""
    for field, value in fields(data):
        if field in (1, 2):
            kind = "spawn" if field == 1 else "kill"
            worker_id = 0
            callable_name = ""
            for inner, item in fields(value):
                if inner == 1:
                    worker_id = item
                elif inner == 2 and field == 1 and isinstance(item, bytes):
                    callable_name = item.decode("utf-8")
    return kind, worker_id, callable_name


class TaskFrame:
    """A decoded TaskFrame. ``channel_input`` is None unless the frame
    carries one, else (messages as plain values, end)."""

    __slots__ = ("task_id", "callable", "packed_inputs", "packed_results", "item_stats",
                 "report_each", "channel_open", "channel_input", "limits")

    def __init__(self, data: bytes) -> None:
        self.task_id = 0
        self.callable = ""
        self.packed_inputs = b"[]"
        self.packed_results = False
        self.item_stats = ITEM_STATS_UNSPECIFIED
        self.report_each = False
        self.channel_open = False
        self.channel_input: Optional[Tuple[List[Any], bool]] = None
        # (max_memory_mib, cpu_seconds, max_open_files) when the frame sets
        # limits (TaskFrame.limits), else None.
        self.limits: Optional[Tuple[int, int, int]] = None
        for field, value in fields(data):
            if field == 7:
                self.packed_inputs = value
            elif field == 1:
                self.task_id = value
            elif field == 2:
                self.callable = value.decode("utf-8")
            elif field == 8:
                self.packed_results = bool(value)
            elif field == 9:
                self.item_stats = value
            elif field == 4:
                self.report_each = bool(value)
            elif field == 5:
                self.channel_open = bool(value)
            elif field == 6:
                messages = []
                end = False
                for inner, item in fields(value):
                    if inner == 1:
                        messages.append(decode_value(item))
                    elif inner == 2:
                        end = bool(item)
                self.channel_input = (messages, end)
            elif field == 10:
                limits = [0, 0, 0]
                for inner, number in fields(value):
                    if 1 <= inner <= 3:
                        limits[inner - 1] = number
                if any(limits):
                    self.limits = (limits[0], limits[1], limits[2])


def frame(payload: bytes) -> bytes:
    """``payload`` with the 4-byte little-endian length before it."""
    return len(payload).to_bytes(4, "little") + payload


__all__ = ["TaskFrame", "bytes_field", "decode_value", "encode_value", "fields", "frame",
           "int_field", "item_error", "item_stats", "log_record", "string_field",
           "template_request", "template_started", "varint", "worker_exited", "worker_spawned"]
