"""FarmExecutor: concurrent.futures on a pprocd server.

One long-lived Queue call per callable name carries every submit of that
name: inputs go out in batches, futures resolve by result index on the
call's reader thread. Thread-safety: as concurrent.futures.Executor (submit
from any thread).
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from concurrent.futures._base import CANCELLED, CANCELLED_AND_NOTIFIED, PENDING
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union, cast

from ._errors import FarmError, ItemError, RemoteTraceback
from ._connection import CallableArg, new_farm
from ._function_ref import Target, as_target
from ._results import (LogCallback, LogRecord, Stats, emit_logs, error_from_proto,
                       logs_from_proto, stats_from_proto)
from ._stream import ItemStream, RawResult
from ._values import from_value
from .v1 import item_pb2

if TYPE_CHECKING:
    from ._farm import Farm


class FarmFuture(concurrent.futures.Future):  # type: ignore[type-arg]
    """A concurrent.futures.Future for one input of a FarmExecutor.

    It stays PENDING until its result arrives (the server does not say when
    an input starts). ``cancel()`` works on a running input too: it asks the
    server to cancel it (a queued input is dropped, a running one has its
    worker killed), waits for the server's answer, and returns True when the
    input was cancelled, False when its result came first. ``logs`` holds
    what the invocation wrote to stdout/stderr; ``messages`` the values a
    channel callable sent before returning.
    """

    logs: Tuple[LogRecord, ...] = ()
    """What the invocation wrote to stdout/stderr."""
    _messages: Tuple[Any, ...] = ()
    _stats: Union[item_pb2.ItemStats, Stats, None] = None

    @property
    def messages(self) -> List[Any]:
        """Values a channel callable sent before its return value."""
        return list(self._messages)

    @property
    def stats(self) -> Optional[Stats]:
        """What the invocation used, worker pid included (once done)."""
        stats = self._stats
        if stats is None or isinstance(stats, Stats):
            return stats
        return stats_from_proto(stats)

    def __init__(self) -> None:
        super().__init__()
        self._stream: Optional[ItemStream] = None
        self._index = -1
        self._cancel_requested = False

    def cancel(self) -> bool:
        """Cancels the input, queued or running; see the class doc."""
        with self._condition:
            if self._state != PENDING:
                return self._state in (CANCELLED, CANCELLED_AND_NOTIFIED)
            first = not self._cancel_requested
            self._cancel_requested = True
        stream = self._stream
        if stream is None:
            return self._resolve_cancelled()
        if first:
            stream.cancel([self._index])
        if threading.current_thread().name.startswith("pprocd-"):
            # On a result thread (a done-callback): waiting would block the
            # thread that brings the answer.
            return self._resolve_cancelled()
        with self._condition:
            self._condition.wait_for(lambda: self._state != PENDING)
            return self._state in (CANCELLED, CANCELLED_AND_NOTIFIED)

    def _resolve_cancelled(self) -> bool:
        if concurrent.futures.Future.cancel(self):
            self.set_running_or_notify_cancel()
            return True
        return self.cancelled()


class FarmExecutor(concurrent.futures.Executor):
    """A concurrent.futures.Executor whose work runs on a pprocd server.

    ``submit(name, *args, **kwargs)`` runs server callable ``name`` and
    returns a :class:`FarmFuture`; ``map(name, *iterables, timeout=None)``
    yields results in order (``timeout``: seconds the client waits in all);
    ``shutdown(wait=True, cancel_futures=False)``. ``as_completed`` and
    ``wait`` work on its futures.

    ``address``: as for :class:`Farm` (or pass ``farm`` to share one).
    ``max_workers``: inputs of each callable running at once (the call's
    ``limit``; None: the server's pool size). ``reuse``: pooled workers
    (True) or a new process per input (False). ``timeout``: seconds per
    input, enforced by the server (the input fails with ItemTimedOut).
    ``packed`` and ``item_stats``: see :class:`Farm` (``FarmFuture.stats``
    of a successful input is then its block's, which holds that input
    alone unless several completed together).
    """

    def __init__(self, address: Optional[str] = None, max_workers: Optional[int] = None, *,
                 farm: Optional[Farm] = None, reuse: bool = True,
                 timeout: Optional[float] = None, on_log: Optional[LogCallback] = None,
                 packed: Optional[bool] = None, item_stats: Optional[str] = None) -> None:
        if max_workers is not None and max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        self._owns_farm = farm is None
        self.farm: Farm = farm if farm is not None else cast("Farm", new_farm(address))
        """The farm the work runs on."""
        self._max_workers = max_workers
        self._options = self.farm.options(max_workers, reuse, timeout, 0, packed, item_stats)
        self._packed = self._options.packed
        self._on_log = on_log if on_log is not None else self.farm.on_log
        self._lock = threading.Lock()
        self._streams: Dict[Target, ItemStream] = {}
        self._shutdown = False
        self._pool_size: Optional[int] = None

    def __repr__(self) -> str:
        return f"<pprocd.FarmExecutor {self.farm.address!r} max_workers={self._max_workers}>"

    def submit(self, fn: CallableArg, /, *args: Any, **kwargs: Any) -> FarmFuture:
        """Runs ``fn(*args, **kwargs)`` and returns its future. ``fn`` is a
        module-level Python function (TypeError at once for a lambda, a
        closure or a bound method) or a server callable's name (several
        positional arguments then spread over its parameters, keywords name
        them). A failed call's future raises :class:`ItemError` whose
        ``__cause__`` is a :class:`RemoteTraceback` holding the remote
        traceback, as ProcessPoolExecutor does."""
        target = as_target(fn)
        value: Any
        if self._packed:
            value = self.farm.encode(target, args, kwargs)
        else:
            value = self.farm.pack(target, args, kwargs)
        future = FarmFuture()
        # A future knows its stream before its input is sent: the reader
        # thread may settle it (naming the callable) before add() returns.
        stream = self._streams.get(target)
        if stream is not None and not self._shutdown:
            try:  # the common case: the callable's call is open
                future._stream = stream
                future._index = stream.add(value, future)
                return future
            except RuntimeError:
                pass  # it has ended (or shutdown closed it): see below
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            stream = self._streams.get(target)
            try:
                if stream is None:
                    raise RuntimeError("no call yet")
                future._stream = stream
                future._index = stream.add(value, future)
            except RuntimeError:  # no call, or it has ended: open one
                stream = ItemStream(self.farm, False, target, self._call_options(),
                                    self._on_results, self._on_end)
                self._streams[target] = stream
                future._stream = stream
                future._index = stream.add(value, future)
                stream.start()
        return future

    def _call_options(self) -> item_pb2.CallOptions:
        """The options of a new call. A limit at or above the server's pool
        size changes nothing about how many inputs run at once, but it would
        stop the server from sending a worker several inputs in one hop: such
        a limit is left out (pooled isolation; asked of the server once)."""
        options = item_pb2.CallOptions()
        options.CopyFrom(self._options)
        if options.limit and options.isolation != item_pb2.ISOLATION_FRESH:
            if self._pool_size is None:
                try:
                    self._pool_size = self.farm.status().workers_configured
                except FarmError:
                    self._pool_size = 0  # the call itself will report the problem
            if self._pool_size and options.limit >= self._pool_size:
                options.limit = 0
        return options

    def map(self, fn: CallableArg, *iterables: Iterable[Any],
            timeout: Optional[float] = None, chunksize: int = 1) -> Iterator[Any]:
        """Like concurrent.futures.Executor.map: submits ``fn(*args)`` for
        each tuple of the iterables at once and yields the results in order;
        ``timeout`` bounds the whole wait (concurrent.futures.TimeoutError).
        ``chunksize`` is accepted for compatibility: the server batches on
        its own. Results not taken are cancelled when the iterator is closed
        or fails."""
        deadline = None if timeout is None else time.monotonic() + timeout
        target = as_target(fn)
        futures = [self.submit(target, *args) for args in zip(*iterables)]

        def results() -> Iterator[Any]:
            try:
                futures.reverse()
                while futures:
                    future = futures[-1]
                    if deadline is None:
                        value = future.result()
                    else:
                        value = future.result(deadline - time.monotonic())
                    futures.pop()
                    yield value
            finally:
                self._cancel_all(futures)

        return results()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Takes no more submits. ``cancel_futures``: cancels every future not
        done yet, running ones included (the server cannot tell the client
        which inputs have started). ``wait``: returns once every future is
        done and the calls have ended."""
        with self._lock:
            self._shutdown = True
            streams = list(self._streams.values())
            self._streams.clear()
        if cancel_futures:
            for stream in streams:
                self._cancel_all([token for _, token in stream.outstanding()])
        for stream in streams:
            stream.close_input()
        if wait:
            for stream in streams:
                stream.join()
            if self._owns_farm:
                self.farm.close()

    def _cancel_all(self, futures: Iterable[FarmFuture]) -> None:
        """Asks for the cancellation of these futures without waiting."""
        by_stream: Dict[int, Tuple[ItemStream, List[int]]] = {}
        for future in futures:
            if future is None or future.done() or future._stream is None or future._index < 0:
                continue  # done, or its submit() has not yet returned
            future._cancel_requested = True
            entry = by_stream.setdefault(id(future._stream), (future._stream, []))
            entry[1].append(future._index)
        for stream, indices in by_stream.values():
            stream.cancel(indices)

    # Reader threads ----------------------------------------------------------

    def _on_results(self, batch: List[Tuple[Any, RawResult]]) -> None:
        on_log = self._on_log
        for future, raw in batch:
            if future is None:
                continue
            if type(raw) is tuple:  # a successful result from a block
                future._stats = raw[1]
                if future._state == PENDING:
                    self._settle(future, value=raw[0])
                continue
            result: item_pb2.ItemResult = raw  # type: ignore[assignment]
            outcome = result.WhichOneof("outcome")
            name = future._stream.callable if future._stream is not None else ""
            if result.logs:
                logs = logs_from_proto(result.logs, name, result.index)
                future.logs += logs
                emit_logs(on_log, logs)
            has_stats = result.HasField("stats")
            if has_stats:
                future._stats = result.stats
            if not (result.last or has_stats or outcome == "error"):
                future._messages += (from_value(result.value) if outcome == "value"
                                    else bytes(result.data),)
                continue
            if future._state != PENDING:
                continue  # cancelled meanwhile
            if outcome == "error":
                if result.error.kind == item_pb2.ERROR_KIND_CANCELLED and future._cancel_requested:
                    future._resolve_cancelled()
                    continue
                error = error_from_proto(result.error, name, result.index, None, future.logs)
                self._settle(future, error=with_remote_traceback(error))
            elif outcome == "data":
                self._settle(future, value=bytes(result.data))
            else:
                self._settle(future, value=from_value(result.value))

    @staticmethod
    def _settle(future: FarmFuture, value: Any = None,
                error: Optional[BaseException] = None) -> None:
        try:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
        except concurrent.futures.InvalidStateError:
            pass  # cancelled by another thread meanwhile

    def _on_end(self, stream: ItemStream, error: Optional[Exception],
                unanswered: List[Tuple[int, Any]]) -> None:
        with self._lock:
            if self._streams.get(stream.target) is stream:
                del self._streams[stream.target]
        for _, future in unanswered:
            if future._cancel_requested:
                future._resolve_cancelled()
            else:
                self._settle(future, error=error or FarmError(
                    f"{stream.callable}: the call ended without a result for this input"))


def with_remote_traceback(error: ItemError) -> ItemError:
    """``error`` with its stderr tail (the remote traceback of a Python
    function) attached as its ``__cause__``, as ProcessPoolExecutor
    attaches its ``_RemoteTraceback``."""
    if error.stderr_tail and error.__cause__ is None:
        error.__cause__ = RemoteTraceback(error.stderr_tail)
    return error
