"""Results, their resource use and their captured output, as plain objects."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Optional, Tuple, Type

from ._errors import (InvalidItem, ItemCancelled, ItemCpuLimit, ItemCrashed, ItemError, ItemFailed,
                      ItemMemoryLimit,
                      ItemTimedOut)
from ._values import from_value
from .v1 import item_pb2

_ERROR_CLASSES: Dict[int, Type[ItemError]] = {
    item_pb2.ERROR_KIND_RAISED: ItemFailed,
    item_pb2.ERROR_KIND_CRASHED: ItemCrashed,
    item_pb2.ERROR_KIND_TIMED_OUT: ItemTimedOut,
    item_pb2.ERROR_KIND_CANCELLED: ItemCancelled,
    item_pb2.ERROR_KIND_INVALID_ARGUMENT: InvalidItem,
    item_pb2.ERROR_KIND_MEMORY_LIMIT: ItemMemoryLimit,
    item_pb2.ERROR_KIND_CPU_LIMIT: ItemCpuLimit,
}

_STREAMS = {item_pb2.LOG_STREAM_STDOUT: "stdout", item_pb2.LOG_STREAM_STDERR: "stderr"}


@dataclass(frozen=True)
class Stats:
    """Resources one invocation used, as the server measured them."""

    wall_us: int
    """Wall-clock time in microseconds."""
    cpu_us: int
    """CPU time (user + system) in microseconds."""
    max_rss_kib: int
    """Peak resident set size of the worker, KiB."""
    worker_pid: int
    """Process id of the worker that ran it."""
    start_unix_us: int
    """When it started, microseconds since the UNIX epoch."""


@dataclass(frozen=True)
class LogRecord:
    """Output a callable wrote to stdout or stderr (bytes, as written).

    The server keeps at most 64 KiB per result and stream (the first and last
    32 KiB); ``dropped_bytes`` counts what it left out.
    """

    stream: str
    """``"stdout"`` or ``"stderr"``."""
    data: bytes
    dropped_bytes: int = 0
    callable: str = ""
    """The callable that wrote it."""
    index: Optional[int] = None
    """The input it belongs to, within its call or collection (None for a channel)."""

    @property
    def text(self) -> str:
        """``data`` decoded as UTF-8 (undecodable bytes replaced)."""
        return self.data.decode("utf-8", errors="replace")


LogCallback = Callable[[LogRecord], None]
"""A function called with every LogRecord as it arrives (on a client thread)."""

_logger = logging.getLogger("pprocd")


def emit_logs(callback: Optional[LogCallback], records: Iterable[LogRecord]) -> None:
    """Hands ``records`` to ``callback``; a callback that raises is reported
    on the ``pprocd`` logger and does not disturb the call."""
    if callback is None:
        return
    for record in records:
        try:
            callback(record)
        except Exception:
            _logger.exception("the on_log callback raised")


@dataclass
class Result:
    """One result of one input: a value or an error, with its position.

    ``index`` is the input's position in its collection (or call), ``seq`` the
    result's position among that input's results (a channel callable gives
    one per value it sends), ``last`` marks the input's final result (the
    callable's return value or its error).
    """

    callable: str
    index: int
    seq: int = 0
    last: bool = True
    value: Any = None
    error: Optional[Exception] = None
    """An :class:`ItemError` (the input failed) or :class:`FarmError` (the call failed)."""
    stats: Optional[Stats] = None
    """Set on the final result only."""
    logs: Tuple[LogRecord, ...] = field(default_factory=tuple)
    """What the invocation wrote to stdout/stderr since its previous result."""

    @property
    def ok(self) -> bool:
        """True when the result is a value, not an error."""
        return self.error is None

    def get(self) -> Any:
        """Returns the value, or raises the error."""
        if self.error is not None:
            raise self.error
        return self.value


def is_final(result: item_pb2.ItemResult) -> bool:
    """Whether ``result`` is its input's final one: marked ``last``, or an
    error, or carrying stats (set on the final result only; servers that
    predate ``last`` send one result per input, with stats)."""
    return result.last or result.HasField("stats") or result.WhichOneof("outcome") == "error"


def stats_from_proto(stats: item_pb2.ItemStats) -> Stats:
    """Converts ItemStats."""
    return Stats(stats.wall_us, stats.cpu_us, stats.max_rss_kib, stats.worker_pid,
                 stats.start_unix_us)


def logs_from_proto(records: Any, callable_name: str,
                    index: Optional[int]) -> Tuple[LogRecord, ...]:
    """Converts repeated LogRecord."""
    return tuple(LogRecord(_STREAMS.get(r.stream, "unknown"), bytes(r.data), r.dropped_bytes,
                           callable_name, index) for r in records)


def error_from_proto(error: item_pb2.ItemError, callable_name: str, index: Optional[int],
                     stats: Optional[Stats] = None,
                     logs: Tuple[LogRecord, ...] = ()) -> ItemError:
    """Builds the ItemError subclass that matches ``error.kind``."""
    cls = _ERROR_CLASSES.get(error.kind, ItemError)
    return cls(error.message, signal=error.signal, exit_code=error.exit_code,
               stderr_tail=error.stderr_tail, callable=callable_name, index=index, stats=stats,
               logs=logs)


def result_from_proto(result: item_pb2.ItemResult, callable_name: str, index: int) -> Result:
    """Converts one ItemResult; ``index`` replaces the call's own index."""
    stats = stats_from_proto(result.stats) if result.HasField("stats") else None
    logs = logs_from_proto(result.logs, callable_name, index) if result.logs else ()
    outcome = result.WhichOneof("outcome")
    value: Any = None
    error: Optional[Exception] = None
    if outcome == "value":
        value = from_value(result.value)
    elif outcome == "data":
        value = bytes(result.data)
    elif outcome == "error":
        error = error_from_proto(result.error, callable_name, index, stats, logs)
    return Result(callable_name, index, result.seq, is_final(result), value, error, stats, logs)


def failed_result(error: Exception, callable_name: str, index: int) -> Result:
    """A final result standing for an input the call could not answer."""
    return Result(callable_name, index, 0, True, None, error)
