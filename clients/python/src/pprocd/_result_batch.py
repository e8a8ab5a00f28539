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
from typing import Any, List, Mapping, Optional

from . import _packed
from .v1 import item_pb2
from .wire.v1 import wire_pb2

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

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self._sock = sock
        self._pid = pid
        self.block: Optional[Block] = None
        self.piece = _FIRST_PIECE
        self.pending_bytes = 0
        self.packed = False
        self.per_item = True
        self._blocks: List[Block] = []
        self._frame = wire_pb2.ResultFrame()
        self._task_id = 0
        self._mode: int = item_pb2.ITEM_STATS_PER_ITEM
        self._name = ""
        self._wall_ns = 0  # Of the items in ItemResults since the last flush.
        self._results = 0
        self._cpu_us = 0
        self._mono_base_ns = 0
        self._unix_base_us = 0

    def start_task(self, task_id: int, packed: bool, mode: int, name: str) -> int:
        """Starts collecting the results of a task of function ``name``
        (the previous task's were flushed). CPU time counts from now.
        Returns the monotonic time (ns) the task starts at."""
        self._task_id = task_id
        self.packed = packed
        self._mode = item_pb2.ITEM_STATS_PER_ITEM if mode == 0 else mode
        self.per_item = self._mode == item_pb2.ITEM_STATS_PER_ITEM
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
                result = self._frame.results.add(index=index, last=True)
                result.error.kind = item_pb2.ERROR_KIND_RAISED
                result.error.message = (f"result of {self._name} is not JSON-serializable: "
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

    def add_result(self, index: int, start_ns: int) -> item_pb2.ItemResult:
        """Appends an empty ItemResult for item ``index``, which started at
        ``start_ns``, closing the open block. The caller fills it in, then
        calls :meth:`set_stats`."""
        self.close_block(start_ns)
        result = self._frame.results.add()
        result.index = index
        return result

    def set_stats(self, result: item_pb2.ItemResult, start_ns: int, wall_ns: int) -> None:
        """Sets the stats of ``result`` unless it succeeded and the task
        wants none. Always call it: its wall time counts in the sharing out
        of CPU time."""
        self._wall_ns += wall_ns
        self._results += 1
        if self._mode != item_pb2.ITEM_STATS_NONE or result.HasField("error"):
            stats = result.stats
            stats.start_unix_us = self.unix_us(start_ns)
            stats.wall_us = wall_ns // 1000
            stats.worker_pid = self._pid
        self.pending_bytes += result.ByteSize()

    def flush(self, end_ns: int) -> None:
        """Writes what was added since the last flush (the last item ended
        at ``end_ns``) as one frame, nothing when empty, with CPU time and
        peak RSS filled in. Exits the process with status 0 when the server
        is gone."""
        self.close_block(end_ns)
        blocks = self._blocks
        items = self._results + sum(block.count for block in blocks)
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

        frame = self._frame
        frame.task_id = self._task_id
        for result in frame.results:
            if result.HasField("stats"):
                result.stats.cpu_us = share(result.stats.wall_us, 1)
                result.stats.max_rss_kib = max_rss_kib
        pid = self._pid
        for block in blocks:
            out = frame.blocks.add(first_index=block.first, count=block.count,
                                   values=b"[" + b",".join(block.parts) + b"]")
            if self._mode == item_pb2.ITEM_STATS_PER_CHUNK:
                wall_us = (block.end_ns - block.start_ns) // 1000
                out.stats.start_unix_us = self.unix_us(block.start_ns)
                out.stats.wall_us = wall_us
                out.stats.worker_pid = pid
                out.stats.cpu_us = share(wall_us, block.count)
                out.stats.max_rss_kib = max_rss_kib
            elif block.walls is not None:
                start_ns = block.start_ns
                add = out.item_stats.add
                for wall_ns in block.walls:
                    wall_us = wall_ns // 1000
                    add(start_unix_us=self.unix_us(start_ns), wall_us=wall_us, worker_pid=pid,
                        cpu_us=share(wall_us, 1), max_rss_kib=max_rss_kib)
                    start_ns += wall_ns
        data = frame.SerializeToString()
        frame.Clear()
        blocks.clear()
        self._wall_ns = 0
        self._results = 0
        self.pending_bytes = 0
        send_frame(self._sock, data)


def send_frame(sock: socket.socket, data: bytes) -> None:
    """Writes one length-prefixed frame; exits the process with status 0
    when the server is gone."""
    try:
        sock.sendall(len(data).to_bytes(4, "little") + data, socket.MSG_NOSIGNAL)
    except OSError:
        os._exit(0)


def _usage() -> "tuple[int, int]":
    """(CPU time in µs, peak RSS in KiB) of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int((usage.ru_utime + usage.ru_stime) * 1e6), int(usage.ru_maxrss)


__all__ = ["Block", "ENCODE_ERRORS", "ResultBatch", "describe_unsendable", "send_frame"]
