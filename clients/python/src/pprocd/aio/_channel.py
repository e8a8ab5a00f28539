"""Channel: one running callable and a two-way conversation with it, on
grpc.aio (the Start RPC).

Belongs to the event loop of its Farm. ``send`` may be awaited from any
task of that loop; ``receive`` (and ``result``) from one task at a time.
"""

from __future__ import annotations

import asyncio
import collections
from typing import TYPE_CHECKING, Any, AsyncIterator, Deque, Dict, Generator, List, Optional, Tuple

import grpc
import grpc.aio

from .._channel import message_request, read_start_response, start_request
from .._errors import FarmError, ItemCancelled
from .._function_ref import Target
from .._results import LogCallback, LogRecord, Result, emit_logs
from ..v1 import item_pb2

if TYPE_CHECKING:
    from ._farm import Farm


class Channel:
    """A running invocation of a callable (what ``farm.start(name, *args)``
    returns), as :class:`pprocd.Channel` but awaited.

    It starts when entered (``async with farm.start(...) as channel``), when
    awaited (``channel = await farm.start(...)``) or on its first
    ``send``/``receive``. ``await send(value)`` gives the callable a value;
    ``await receive()`` returns the next value it sent (EOFError once it has
    finished and sent nothing more, its :class:`pprocd.ItemError` if it
    failed); ``async for value in channel`` reads them all; ``await close()``
    ends its input; ``await result()`` waits for its return value;
    ``cancel()`` kills it. Leaving the ``async with`` block cancels it
    unless it has finished. A ``receive`` that times out, or whose task is
    cancelled, leaves the channel running.
    """

    def __init__(self, farm: "Farm", target: Target, args: Tuple[Any, ...],
                 kwargs: Dict[str, Any], options: item_pb2.CallOptions,
                 on_log: Optional[LogCallback]) -> None:
        self.farm = farm
        self.target = target
        """What runs: a callable's name or a function reference."""
        self.callable = str(target)
        """The callable's name (``module.qualname`` for a function)."""
        self.logs: List[LogRecord] = []
        """Every LogRecord received so far, in order."""
        self._args = args
        self._kwargs = kwargs
        self._options = options
        self._on_log = on_log
        self._call: Any = None
        self._opening: Optional[asyncio.Future[None]] = None
        self._reading: Optional[asyncio.Future[Any]] = None
        self._inbox: Deque[Any] = collections.deque()
        self._final: Optional[Result] = None
        self._received = False
        self._input_closed = False
        self._cancelled = False

    def __repr__(self) -> str:
        return f"<pprocd.aio.Channel {self.callable!r}{' done' if self.done() else ''}>"

    # Starting ------------------------------------------------------------------

    async def open(self) -> "Channel":
        """Starts the invocation (once; its arguments are checked first:
        :class:`pprocd.InvalidItem`, TypeError) and returns the channel."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._start())
        await asyncio.shield(self._opening)
        return self

    async def _start(self) -> None:
        farm = self.farm
        await farm._learn(self.target)
        arguments: Any
        if self._options.packed:
            arguments = farm.encode(self.target, self._args, self._kwargs)
        else:
            arguments = farm.pack(self.target, self._args, self._kwargs)
        self._call = farm._stub.Start(wait_for_ready=False)
        try:
            await self._call.write(start_request(self.target, arguments, self._options))
        except (grpc.RpcError, asyncio.InvalidStateError):
            pass  # the call has ended: receive() says why

    def __await__(self) -> Generator[Any, None, "Channel"]:
        return self.open().__await__()

    async def __aenter__(self) -> "Channel":
        return await self.open()

    async def __aexit__(self, *exc_info: Any) -> None:
        if not self.done():
            self.cancel()

    # Talking -------------------------------------------------------------------

    async def send(self, value: Any) -> None:
        """Sends one value (JSON-shaped) to the callable. Values sent after
        it finished are dropped (``receive`` and ``result`` say how it
        ended). A send still in flight when the server refuses the call (an
        unknown callable) can make the call's error INTERNAL instead of the
        server's status: grpc.aio reports a write that fails as a call ends
        so."""
        requests = message_request([value], self._options.packed)
        await self.open()
        if self._input_closed:
            raise ValueError(f"{self!r}: input is closed")
        try:
            for request in requests:
                await self._call.write(request)
        except (grpc.RpcError, asyncio.InvalidStateError):
            pass

    async def close(self) -> None:
        """Ends the callable's input (a half-close): it sees end of input."""
        await self.open()
        if self._input_closed:
            return
        self._input_closed = True
        try:
            await self._call.done_writing()
        except (grpc.RpcError, asyncio.InvalidStateError):
            pass

    async def receive(self, timeout: Optional[float] = None) -> Any:
        """Returns the next value the callable sent, waiting up to
        ``timeout`` seconds (None: no limit; TimeoutError past it). Raises
        EOFError when it has finished and sent nothing more, or its error."""
        await self.open()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self._inbox and self._final is None:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            if not await self._read(left):
                raise TimeoutError(f"{self!r} sent nothing within {timeout} s")
        if self._inbox:
            return self._inbox.popleft()
        final = self._final
        assert final is not None
        if final.error is not None:
            raise final.error
        raise EOFError(f"{self.callable} has finished and sent nothing more")

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._values()

    async def _values(self) -> AsyncIterator[Any]:
        while True:
            try:
                value = await self.receive()
            except EOFError:
                return
            yield value

    async def result(self, timeout: Optional[float] = None) -> Any:
        """Waits up to ``timeout`` seconds for the callable to finish and
        returns its return value; raises its error if it failed. Values it
        sent and nobody received stay available to ``receive``."""
        return (await self.final_result(timeout)).get()

    async def final_result(self, timeout: Optional[float] = None) -> Result:
        """Like :meth:`result`, as a :class:`pprocd.Result`."""
        await self.open()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._final is None:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            if not await self._read(left):
                raise TimeoutError(f"{self!r} did not finish within {timeout} s")
        return self._final

    def done(self) -> bool:
        """True once its end was read: it finished, failed or was cancelled."""
        return self._final is not None

    def cancel(self) -> None:
        """Kills the invocation; its result becomes :class:`pprocd.ItemCancelled`."""
        if self._final is not None:
            return
        self._cancelled = True
        if self._call is not None:
            self._call.cancel()
        else:
            self._final = Result(self.callable, 0, error=ItemCancelled(
                "cancelled by the client", callable=self.callable))

    def __del__(self) -> None:
        try:
            if self._final is None and self._call is not None:
                self._call.cancel()
        except Exception:  # the loop may be closed already
            pass

    # gRPC side -----------------------------------------------------------------

    async def _read(self, timeout: Optional[float]) -> bool:
        """Reads one response (False if none came within ``timeout``). The
        read goes on in a task of its own, so that a timeout or a cancelled
        caller leaves the call running (cancelling a read cancels an RPC)."""
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._call.read())
            self._reading.add_done_callback(_retrieve)
        done, _ = await asyncio.wait({self._reading}, timeout=timeout)
        if not done:
            return False
        reading, self._reading = self._reading, None
        try:
            response = reading.result()
        except grpc.RpcError as error:
            self._end_with(error)
            return True
        except asyncio.CancelledError:
            self._end_with(None)
            return True
        if response is grpc.aio.EOF:
            self._final = Result(self.callable, 0, error=FarmError(
                f"{self.callable}: the server ended the channel without a result"))
            return True
        self._received = True
        records, values, final = read_start_response(response, self.callable)
        if records:
            self.logs.extend(records)
            emit_logs(self._on_log, records)
        self._inbox.extend(values)
        if final is not None:
            self._final = final
        return True

    def _end_with(self, error: Optional[grpc.RpcError]) -> None:
        reason: Exception
        if self._cancelled or error is None:
            reason = ItemCancelled("cancelled by the client", callable=self.callable)
        else:
            reason = self.farm._call_error(error, self._received, self.callable)
        self._final = Result(self.callable, 0, error=reason)


def _retrieve(read: "asyncio.Future[Any]") -> None:
    """Marks the error of a read as seen: a channel dropped while a read
    was pending logs no "exception was never retrieved"."""
    if not read.cancelled():
        read.exception()


__all__ = ["Channel"]
