"""One Map or Queue call on grpc.aio, read as an async iterator.

The call opens on the first read. A writer task sends the inputs (checked
and encoded in batches, as the sync pmap sends them) while the reader takes
the responses; an input that cannot be sent (not JSON-shaped, does not bind
to the callable's parameters, or the input iterable raised) cancels the call
and is raised where the results are read. The writer task holds the call
but not the stream, so a stream nobody holds any more is collected at once
and cancels its call.

Belongs to the event loop of its Farm; read it from one task at a time.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from typing import (TYPE_CHECKING, Any, AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable,
                    Deque, Iterable, List, Optional, Sequence, Union)

import grpc
import grpc.aio

from .. import _packed
from .._errors import FarmError
from .._connection import PACKED_MAX_BYTES, PMAP_BATCH_INPUTS
from .._connection import batches as _batches
from .._function_ref import FunctionRef, Target, target_fields
from .._results import LogCallback, Result, Stats, emit_logs, result_from_proto, stats_from_proto
from .._stream import MAX_BATCH_INPUTS, response_entries
from .._values import to_value
from ..v1 import item_pb2, service_pb2

if TYPE_CHECKING:
    from ._farm import Farm


class _Sent:
    """What the writer task tells the reader: inputs sent, and the error
    that stopped the inputs (None while none did)."""

    __slots__ = ("count", "problem")

    def __init__(self) -> None:
        self.count = 0
        self.problem: Optional[BaseException] = None


class ResultStream:
    """The results of one Map (input order) or Queue (completion order)
    call: ``async for value in stream`` raises a failed input's error where
    its result is read and may go on after it; ``stream.results()`` yields
    :class:`pprocd.Result` objects (value or error, ``index``, stats, logs)
    from the same call. A call that fails as a whole raises its
    :class:`pprocd.FarmError` and ends the iteration. An async context
    manager: leaving it, ``aclose()``, or cancelling a task while it reads
    cancels the call on the server (its running inputs are killed).
    """

    def __init__(self, farm: "Farm", ordered: bool, target: Target,
                 inputs: Union[Iterable[Any], AsyncIterable[Any]],
                 options: item_pb2.CallOptions, on_log: Optional[LogCallback]) -> None:
        self.farm = farm
        self.target = target
        """What runs: a callable's name or a function reference."""
        self.callable = str(target)
        """Its name, as errors and results carry it."""
        self._ordered = ordered
        self._inputs: Optional[Union[Iterable[Any], AsyncIterable[Any]]] = inputs
        self._options = options
        self._on_log = on_log
        self._call: Any = None
        self._writer: Optional[asyncio.Task[None]] = None
        self._sent = _Sent()
        # Results not read yet: a tuple (index, value, stats) for a value
        # that came in a block, else a Result.
        self._ready: Deque[Any] = collections.deque()
        self._response: Any = None
        self._finals = 0
        self._received = False
        self._ended = False
        self._closed = False

    def __repr__(self) -> str:
        kind = "map" if self._ordered else "queue"
        return f"<pprocd.aio {kind} of {self.callable!r}>"

    # Reading -----------------------------------------------------------------

    def __aiter__(self) -> "ResultStream":
        return self

    async def __anext__(self) -> Any:
        entry = await self._next_entry()
        if type(entry) is tuple:
            return entry[1]
        return entry.get()

    def results(self) -> AsyncIterator[Result]:
        """The call's results as :class:`pprocd.Result` objects, without
        raising the inputs' errors."""
        return _Results(self)

    async def next_result(self) -> Optional[Result]:
        """The next result, or None once the call has ended; raises the
        call's :class:`pprocd.FarmError` (or the error of an input that
        could not be sent)."""
        try:
            entry = await self._next_entry()
        except StopAsyncIteration:
            return None
        if type(entry) is tuple:
            index, value, stats = entry
            return Result(self.callable, index, 0, True, value, None, stats)
        result: Result = entry
        return result

    async def _next_entry(self) -> Any:
        """The next entry of ``_ready`` (see :meth:`_take`), reading as
        needed; StopAsyncIteration once the call has ended."""
        try:
            while not self._ready:
                if self._ended or not await self._read():
                    raise StopAsyncIteration
                self._take(self._response)
            return self._ready.popleft()
        except asyncio.CancelledError:
            self._cancel()
            raise

    async def values(self) -> List[Any]:
        """Every value, in the order the results come (what pmap returns):
        raises the first failed input's error, or :class:`pprocd.FarmError`
        when the call ended without a result for every input sent."""
        out: List[Any] = []
        try:
            while self._ready:
                entry = self._ready.popleft()
                out.append(entry[1] if type(entry) is tuple else entry.get())
            while not self._ended and await self._read():
                response = self._response
                if response.results:
                    self._take(response)
                    while self._ready:
                        entry = self._ready.popleft()
                        out.append(entry[1] if type(entry) is tuple else entry.get())
                    continue
                for block in response.blocks:  # the packed form's common case
                    values = _packed.loads_values(block.values)
                    self._finals += len(values)
                    out.extend(values)
        except asyncio.CancelledError:
            self._cancel()
            raise
        if self._finals < self._sent.count:
            raise FarmError(f"{self.callable}: the server answered {self._finals} of "
                            f"{self._sent.count} inputs")
        return out

    async def _read(self) -> bool:
        """Reads the next response into ``_response``; False once the call
        has ended (raising its error, or that of an input not sent)."""
        if self._call is None:
            await self._open()
        try:
            response = await self._call.read()
        except asyncio.CancelledError:
            # grpc.aio raises it for a call cancelled here too: the writer
            # cancels for an input it could not send.
            if self._sent.problem is None:
                raise
            self._end()
            raise self._sent.problem from None
        except grpc.RpcError as error:
            self._end()
            if self._sent.problem is not None:
                raise self._sent.problem from None
            if self._closed:
                return False
            raise self.farm._call_error(error, self._received, self.callable) from None
        if response is grpc.aio.EOF:
            self._end()
            if self._sent.problem is not None:
                raise self._sent.problem
            return False
        self._received = True
        self._response = response
        return True

    def _take(self, response: Any) -> None:
        """Appends a response's results to ``_ready``: a successful result
        from a block as a tuple (index, value, stats), any other as a
        :class:`pprocd.Result` (its logs handed to the log callback)."""
        ready = self._ready
        if not response.results:
            for block in response.blocks:
                values = _packed.loads_values(block.values)
                stats: Iterable[Optional[Stats]]
                if block.item_stats:
                    stats = [stats_from_proto(s) for s in block.item_stats]
                else:
                    stats = itertools.repeat(stats_from_proto(block.stats)
                                             if block.HasField("stats") else None)
                first = block.first_index
                ready.extend(zip(range(first, first + len(values)), values, stats))
                self._finals += len(values)
            return
        name = self.callable
        for index, raw in response_entries(response.results, response.blocks):
            if type(raw) is tuple:
                ready.append((index, raw[0], raw[1]))
                self._finals += 1
                continue
            result = result_from_proto(raw, name, index)  # type: ignore[arg-type]
            if result.last:
                self._finals += 1
            if result.logs:
                emit_logs(self._on_log, result.logs)
            ready.append(result)

    # Opening and closing -------------------------------------------------------

    async def _open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        target = self.target
        await self.farm._learn(target)
        stub = self.farm._stub
        rpc = stub.Map if self._ordered else stub.Queue
        request_type = service_pb2.MapRequest if self._ordered else service_pb2.QueueRequest
        call = rpc(wait_for_ready=False)
        self._call = call
        inputs, self._inputs = self._inputs, None
        assert inputs is not None
        first = request_type(options=self._options, **target_fields(target))
        self._writer = asyncio.ensure_future(_write(
            call, first, request_type, inputs, self.farm, target, self._options.packed,
            self._sent))

    def _end(self) -> None:
        self._ended = True
        writer = self._writer
        if writer is not None and not writer.done():
            writer.cancel()

    def _cancel(self) -> None:
        """Cancels the call (idempotent; nothing to do once it has ended)."""
        self._closed = True
        if self._call is not None and not self._ended:
            self._call.cancel()
        self._end()

    async def aclose(self) -> None:
        """Cancels the call unless it has ended; the iteration ends."""
        self._cancel()
        writer = self._writer
        if writer is not None:
            await asyncio.gather(writer, return_exceptions=True)

    async def __aenter__(self) -> "ResultStream":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __del__(self) -> None:
        try:
            self._cancel()
        except Exception:  # the loop may be closed already
            pass


class _Results:
    """``ResultStream.results()``: the same call, Result objects."""

    def __init__(self, stream: ResultStream) -> None:
        self._stream = stream

    def __aiter__(self) -> "_Results":
        return self

    async def __anext__(self) -> Result:
        result = await self._stream.next_result()
        if result is None:
            raise StopAsyncIteration
        return result


async def _write(call: Any, first: Any, request_type: Any,
                 inputs: Union[Iterable[Any], AsyncIterable[Any]], farm: "Farm", target: Target,
                 packed: bool, sent: _Sent) -> None:
    """Sends the call's requests: ``first`` with the first batch of inputs,
    then the other batches, then the end of input. An input that cannot be
    sent, or an error of the input iterable, is kept in ``sent.problem``
    and cancels the call.

    The first batch rides in the first request so that a call the server
    refuses at once (an unknown callable, bad options) has no write in
    flight when its status arrives: grpc.aio reports a write that fails as
    the call ends as INTERNAL, in place of the server's status."""
    ref = target if isinstance(target, FunctionRef) else None
    size = PMAP_BATCH_INPUTS if packed else MAX_BATCH_INPUTS
    batches = _async_batches(inputs, size)
    unsent = first
    try:
        index = 0
        async for batch in batches:
            if ref is not None:
                batch = ref.map_items(batch)
            requests: List[Any] = []
            if packed:
                farm.check_objs(target, batch, index)
                requests = [request_type(packed_inputs=data)
                            for data in _packed.encode_batches(batch, PACKED_MAX_BYTES)]
            else:
                values: List[Any] = []
                for item in batch:
                    value = to_value(item)
                    farm.check(target, value, index + len(values))
                    values.append(value)
                requests = [request_type(inputs=values)]
            index += len(batch)
            for request in requests:
                if unsent is not None:
                    unsent.MergeFrom(request)
                    request, unsent = unsent, None
                sent.count = index
                if not await _send(call.write(request)):
                    return
        if unsent is not None and not await _send(call.write(unsent)):
            return
        await _send(call.done_writing())
    except asyncio.CancelledError:
        raise
    except Exception as error:
        sent.problem = error
        call.cancel()
    finally:
        await batches.aclose()


async def _send(operation: Awaitable[None]) -> bool:
    """Awaits a write or the half-close of a call; False when the call has
    ended (its reader says why)."""
    try:
        await operation
    except asyncio.CancelledError:
        raise
    except Exception:  # grpc.RpcError, InvalidStateError, or gRPC's internal errors
        return False
    return True


async def _async_batches(inputs: Union[Iterable[Any], AsyncIterable[Any]],
                         size: int) -> AsyncGenerator[Sequence[Any], None]:
    """``inputs`` in batches of at most ``size``. An iterable is cut in
    consecutive batches; an async iterable is read by a task of its own,
    and each batch is what it produced while the previous one was sent
    (at least one input; at most ``size``, so a fast producer waits)."""
    if not isinstance(inputs, AsyncIterable):
        for cut in _batches(inputs, size):
            yield cut
        return
    queue: "asyncio.Queue[Any]" = asyncio.Queue(maxsize=size)
    end = object()

    async def produce() -> None:
        try:
            async for item in inputs:
                await queue.put((item,))
        except Exception as error:  # raised where the batch is taken
            await queue.put(error)
        await queue.put(end)

    producer = asyncio.ensure_future(produce())
    try:
        while True:
            entry = await queue.get()
            batch: List[Any] = []
            while True:
                if entry is end:
                    if batch:
                        yield batch
                    return
                if isinstance(entry, BaseException):
                    raise entry
                batch.append(entry[0])
                if len(batch) >= size:
                    break
                try:
                    entry = queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
            yield batch
    finally:
        producer.cancel()


__all__ = ["ResultStream"]
