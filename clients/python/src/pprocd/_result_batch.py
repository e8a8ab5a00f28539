"""The results of a Python worker's running task on their way to the server
(the Python twin of worker/result_batch.h).

A ResultBatch collects item outcomes in the form the task asked for and
writes them as ResultFrames on the task socket:

- packed form (TaskFrame.packed_results): runs of successful values in
  ResultBlocks, each ONE JSON array encoded by ``_packed.dumps`` in a few
  calls (a piece of values at a time, so that the buffered size is known),
  and beside them, by index, ItemResults for the rest (failures, results
  with logs, channel items);
- value form: one ItemResult per item.

Items are added in index order; a frame's results and blocks, merged by
index, are consecutive. A value that is not JSON-shaped fails its item
(ERROR_KIND_RAISED), splitting its block.

Stats follow TaskFrame.item_stats as the C++ worker's do: per item
(ITEM_STATS_UNSPECIFIED too), per block (PER_CHUNK; ItemResults keep their
own), or none (NONE; failed items keep theirs). CPU time and peak RSS are
read once per flush and shared out in proportion to wall time. Times are
nanoseconds of the monotonic clock. The items of a block ran back to back:
a block keeps its start and end, and each item's wall time only for
per-item stats.

Belongs to the worker process's one thread.
"""

from __future__ import annotations

import os
import resource
import socket
import time
from collections.abc import Mapping

from . import _packed, _wire

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, List, Optional, Tuple

# Values encoded at a time: as many as take about this many bytes, at most
# _MAX_PIECE (the piece size follows the last piece's bytes per value).
_PIECE_BYTES = 16 << 10
_MAX_PIECE = 1024
_FIRST_PIECE = 32
# Encoding errors of a value that is not JSON-shaped.
ENCODE_ERRORS = (TypeError, ValueError, OverflowError, RecursionError)


def describe_unsendable(value: Any, error: BaseException) -> str:
    """What in ``value`` has no JSON form: a type name, else the error."""
    stack = [value]
    seen = 0
    while stack and seen < 100000:
        seen += 1
        item = stack.pop()
        if item is None or isinstance(item, (bool, int, float, str)):
            continue
        if isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        if isinstance(item, Mapping):
            for key in item:
                if not isinstance(key, str):
                    return f"dict key of type {type(key).__name__}"
            stack.extend(item.values())
            continue
        return type(item).__name__
    return str(error) or type(error).__name__


class Result:
    """An ItemResult on its way: filled in by the worker, encoded (with
    its share of CPU time) when the batch is sent."""

    __slots__ = ("index", "value", "error", "stats", "seq", "last", "logs")

    def __init__(self, index: int) -> None:
        self.index = index
        # The encoded google.protobuf.Value, or None.
        self.value: Optional[bytes] = None
        # (kind, message, stderr_tail), or None.
        self.error: Optional[Tuple[int, str, str]] = None
        # (start_unix_us, wall_us), or None.
        self.stats: Optional[Tuple[int, int]] = None
        self.seq = 0
        self.last = True
        # (stream, data, dropped_bytes) of each LogRecord.
        self.logs: List[Tuple[int, bytes, int]] = []

    def fail(self, kind: int, message: str, stderr_tail: str = "") -> None:
        self.value = None
        self.error = (kind, message, stderr_tail)

    def size(self) -> int:
        """About how many bytes it takes on the wire."""
        size = 48 + len(self.value or b"")
        if self.error is not None:
            size += len(self.error[1]) + len(self.error[2])
        return size + sum(len(log[1]) + 8 for log in self.logs)

    def encode(self, cpu_us: int, max_rss_kib: int, pid: int) -> bytes:
        """The ItemResult's body, its stats (if any) completed."""
        parts = [_wire.int_field(1, self.index)]
        if self.value is not None:
            parts.append(_wire.bytes_field(2, self.value))
        elif self.error is not None:
            parts.append(_wire.bytes_field(4, _wire.item_error(*self.error)))
        if self.stats is not None:
            start_unix_us, wall_us = self.stats
            parts.append(_wire.bytes_field(5, _wire.item_stats(wall_us, cpu_us, max_rss_kib, pid,
                                                               start_unix_us)))
        parts.append(_wire.int_field(6, self.seq))
        parts.append(_wire.int_field(7, int(self.last)))
        for log in self.logs:
            parts.append(_wire.bytes_field(8, _wire.log_record(*log)))
        return b"".join(parts)


class Block:
    """A run of successful values of items that ran back to back, from
    ``start_ns`` to ``end_ns`` (set when the block closes): ``count``
    encoded in ``parts`` (JSON array texts without their brackets), then
    ``pending`` values not yet encoded. ``walls`` holds each item's wall
    time (ns) when the task wants per-item stats, else it is None."""

    __slots__ = ("first", "count", "parts", "pending", "walls", "start_ns", "end_ns",
                 "encoded_ns")

    def __init__(self, first: int, start_ns: int, per_item: bool) -> None:
        self.first = first
        self.count = 0
        self.parts: List[bytes] = []
        self.pending: List[Any] = []
        self.walls: Optional[List[int]] = [] if per_item else None
        self.start_ns = start_ns
        self.end_ns = start_ns
        # When the last values were encoded: the pending ones ran since.
        self.encoded_ns = start_ns


class ResultBatch:
    """See the module doc. ``block`` is the open block or None. The
    worker's loop may append values to ``block.pending`` itself (with their
    walls when ``block.walls`` is not None), calling :meth:`encode_pending`
    once ``len(pending) >= piece``, which may close the block."""

    def __init__(self, sock: Optional[socket.socket], pid: int) -> None:
        # None until bind(): a batch a template builds for its workers.
        self._sock: socket.socket = sock  # type: ignore[assignment]
        self._pid = pid
        self.block: Optional[Block] = None
        self.piece = _FIRST_PIECE
        self.pending_bytes = 0
        self.packed = False
        self.per_item = True
        self._blocks: List[Block] = []
        self._results: List[Result] = []
        self._task_id = 0
        self._mode = _wire.ITEM_STATS_PER_ITEM
        self._name = ""
        self._wall_ns = 0  # Of the items in _results.
        self._cpu_us = 0
        self._mono_base_ns = 0
        self._unix_base_us = 0

    def bind(self, sock: socket.socket, pid: int) -> None:
        """Sends to ``sock`` as worker ``pid`` from now on (a batch built
        before its worker was forked)."""
        self._sock = sock
        self._pid = pid

    def start_task(self, task_id: int, packed: bool, mode: int, name: str) -> int:
        """Starts collecting the results of a task of function ``name``
        (the previous task's were flushed). CPU time counts from now.
        Returns the monotonic time (ns) the task starts at."""
        self._task_id = task_id
        self.packed = packed
        self._mode = _wire.ITEM_STATS_PER_ITEM if mode == _wire.ITEM_STATS_UNSPECIFIED else mode
        self.per_item = self._mode == _wire.ITEM_STATS_PER_ITEM
        self._name = name
        self._cpu_us = _usage()[0]
        self._mono_base_ns = time.monotonic_ns()
        self._unix_base_us = time.time_ns() // 1000
        return self._mono_base_ns

    @property
    def name(self) -> str:
        """The running task's function, as error messages name it."""
        return self._name

    def unix_us(self, mono_ns: int) -> int:
        return self._unix_base_us + (mono_ns - self._mono_base_ns) // 1000

    def open_block(self, index: int, start_ns: int) -> Block:
        """Opens a block whose first item, ``index``, started at ``start_ns``."""
        block = Block(index, start_ns, self.per_item)
        self._blocks.append(block)
        self.block = block
        return block

    def add_value(self, index: int, value: Any, start_ns: int, end_ns: int) -> None:
        """Appends a successful value to the open block (opening one)."""
        block = self.block
        if block is None:
            block = self.open_block(index, start_ns)
        block.pending.append(value)
        if block.walls is not None:
            block.walls.append(end_ns - start_ns)
        if len(block.pending) >= self.piece:
            self.encode_pending()

    def encode_pending(self, now_ns: Optional[int] = None) -> None:
        """Encodes the open block's pending values, which ran until
        ``now_ns`` (default: now); a value that has no JSON form becomes its
        item's failure (the block is split there)."""
        block = self.block
        if block is None or not block.pending:
            return
        pending = block.pending
        try:
            data = _packed.dumps(pending)
        except ENCODE_ERRORS:
            self._split(block, time.monotonic_ns() if now_ns is None else now_ns)
            return
        count = len(pending)
        block.parts.append(data[1:-1])
        block.count += count
        pending.clear()
        block.encoded_ns = time.monotonic_ns() if now_ns is None else now_ns
        self.pending_bytes += len(data)
        self.piece = max(1, min(_MAX_PIECE, _PIECE_BYTES * count // len(data)))

    def _split(self, block: Block, now_ns: int) -> None:
        """Encodes the pending values one by one: each one that has no JSON
        form fails its item and ends the block; the next value opens
        another. Without per-item walls, the time since the last encoding
        is shared out evenly."""
        values = list(block.pending)
        block.pending.clear()
        if block.walls is not None:
            walls = block.walls[block.count:]
            del block.walls[block.count:]
            start_ns = block.start_ns + sum(block.walls)
        else:
            start_ns = block.encoded_ns
            share = max(0, now_ns - start_ns) // len(values)
            walls = [share] * len(values)
        index = block.first + block.count
        current: Optional[Block] = block if block.count else None
        if current is None:
            self._blocks.remove(block)
        self.block = None
        for value, wall_ns in zip(values, walls):
            try:
                data = _packed.dumps([value])
            except ENCODE_ERRORS as error:
                if current is not None:
                    current.end_ns = start_ns
                    current = None
                result = self.add_result(index, start_ns)
                result.fail(_wire.ERROR_KIND_RAISED,
                            f"result of {self._name} is not JSON-serializable: "
                            f"{describe_unsendable(value, error)}")
                self.set_stats(result, start_ns, wall_ns)
            else:
                if current is None:
                    current = self.open_block(index, start_ns)
                current.parts.append(data[1:-1])
                current.count += 1
                if current.walls is not None:
                    current.walls.append(wall_ns)
                self.pending_bytes += len(data)
            start_ns += wall_ns
            index += 1
        self.block = current
        if current is not None:
            current.encoded_ns = start_ns

    def close_block(self, end_ns: int) -> None:
        """Closes the open block, whose last item ended at ``end_ns``."""
        if self.block is not None:
            self.encode_pending(end_ns)
            if self.block is not None:
                self.block.end_ns = end_ns
                self.block = None

    def add_result(self, index: int, start_ns: int) -> Result:
        """Appends an empty Result for item ``index``, which started at
        ``start_ns``, closing the open block. The caller fills it in, then
        calls :meth:`set_stats`."""
        self.close_block(start_ns)
        result = Result(index)
        self._results.append(result)
        return result

    def set_stats(self, result: Result, start_ns: int, wall_ns: int) -> None:
        """Sets the stats of ``result`` unless it succeeded and the task
        wants none. Always call it, once it is filled in: its wall time
        counts in the sharing out of CPU time."""
        self._wall_ns += wall_ns
        if self._mode != _wire.ITEM_STATS_NONE or result.error is not None:
            result.stats = (self.unix_us(start_ns), wall_ns // 1000)
        self.pending_bytes += result.size()

    def flush(self, end_ns: int) -> None:
        """Writes what was added since the last flush (the last item ended
        at ``end_ns``) as one frame, nothing when empty, with CPU time and
        peak RSS filled in. Exits the process with status 0 when the server
        is gone."""
        self.close_block(end_ns)
        blocks = self._blocks
        results = self._results
        items = len(results) + sum(block.count for block in blocks)
        if items == 0:
            return
        wall_total_us = (self._wall_ns + sum(block.end_ns - block.start_ns
                                             for block in blocks)) // 1000
        cpu_now, max_rss_kib = _usage()
        cpu_us = cpu_now - self._cpu_us
        self._cpu_us = cpu_now

        def share(wall_us: int, count: int) -> int:
            if wall_total_us > 0:
                return cpu_us * wall_us // wall_total_us
            return cpu_us * count // items

        pid = self._pid
        parts = [_wire.int_field(_wire.RESULT_FRAME_TASK_ID, self._task_id)]
        for result in results:
            cpu = share(result.stats[1], 1) if result.stats is not None else 0
            parts.append(_wire.bytes_field(_wire.RESULT_FRAME_RESULTS,
                                           result.encode(cpu, max_rss_kib, pid)))
        for block in blocks:
            out = [_wire.int_field(1, block.first), _wire.int_field(2, block.count),
                   _wire.bytes_field(3, b"[" + b",".join(block.parts) + b"]")]
            if self._mode == _wire.ITEM_STATS_PER_CHUNK:
                wall_us = max(0, block.end_ns - block.start_ns) // 1000
                out.append(_wire.bytes_field(4, _wire.item_stats(
                    wall_us, share(wall_us, block.count), max_rss_kib, pid,
                    self.unix_us(block.start_ns))))
            elif block.walls is not None:
                start_ns = block.start_ns
                for wall_ns in block.walls:
                    wall_us = wall_ns // 1000
                    out.append(_wire.bytes_field(5, _wire.item_stats(
                        wall_us, share(wall_us, 1), max_rss_kib, pid, self.unix_us(start_ns))))
                    start_ns += wall_ns
            parts.append(_wire.bytes_field(_wire.RESULT_FRAME_BLOCKS, b"".join(out)))
        blocks.clear()
        results.clear()
        self._wall_ns = 0
        self.pending_bytes = 0
        send_frame(self._sock, b"".join(parts))


def send_frame(sock: socket.socket, data: bytes) -> None:
    """Writes one length-prefixed frame (a serialized ResultFrame); exits the process with status 0
    when the server is gone."""
    try:
        sock.sendall(_wire.frame(data), socket.MSG_NOSIGNAL)
    except OSError:
        os._exit(0)


def _usage() -> Tuple[int, int]:
    """(CPU time in µs, peak RSS in KiB) of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int((usage.ru_utime + usage.ru_stime) * 1e6), int(usage.ru_maxrss)


__all__ = ["Block", "ENCODE_ERRORS", "Result", "ResultBatch", "describe_unsendable", "send_frame"]
