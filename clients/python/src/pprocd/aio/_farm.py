"""The asyncio Farm: a connection to one pprocd server on grpc.aio.

Belongs to one event loop: make it, use it and close it in coroutines of
the same loop (``asyncio.run`` makes a new loop each time: make a Farm in
each). Any number of coroutines of that loop may use it at once.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, AsyncIterable, AsyncIterator, Dict, Iterable, List, Optional, Set, Union

import grpc
import grpc.aio

from .._address import locate_server
from .._errors import FarmError
from .._connection import MAX_MESSAGE_BYTES as _MAX_MESSAGE_BYTES
from .._connection import UNARY_TIMEOUT_S as _UNARY_TIMEOUT_S
from .._connection import CallableArg, packed_default
from .._function_ref import Target, as_target
from .._inputs import InputChecks, call_error, make_options
from .._jobs import JobState, JobStatus, list_jobs_request, submit_request
from .._results import LogCallback
from .._signature import Signature
from ..v1 import callable_pb2, service_pb2, service_pb2_grpc
from ._calls import ResultStream
from ._channel import Channel
from ._jobs import Job

Inputs = Union[Iterable[Any], AsyncIterable[Any]]
"""The inputs of a call: an iterable, or an async iterable (read as the
call goes)."""


class Farm(InputChecks):
    """A connection to one pprocd server for asyncio code (the twin of
    :class:`pprocd.Farm`).

    ``address``, ``on_log``, ``packed``, ``item_stats``: as for
    :class:`pprocd.Farm` (the same search for the server, the same "no
    server" error, :class:`pprocd.ServerUnavailable`, raised by the first
    call). An async context manager; ``await farm.close()`` ends its
    connection. See the module doc for its event loop.
    """

    def __init__(self, address: Optional[str] = None, *,
                 on_log: Optional[LogCallback] = None, packed: Optional[bool] = None,
                 item_stats: Optional[str] = None) -> None:
        located = locate_server(address)
        self.address: str = located.target
        """The gRPC target this farm talks to."""
        self._no_server_hint = located.no_server_hint
        self.on_log: Optional[LogCallback] = on_log
        """The default log callback of this farm's calls (called on the
        event loop's thread)."""
        self.packed = packed_default(packed)
        make_options(item_stats=item_stats)  # checks the name
        self.item_stats = item_stats
        self._channel: Optional[grpc.aio.Channel] = None
        self._stub_object: Any = None
        self._signatures: Optional[Dict[str, Signature]] = None
        self._unknown: Set[str] = set()
        self._describing: Optional[asyncio.Lock] = None
        self._closed = False

    def __repr__(self) -> str:
        return f"pprocd.aio.Farm({self.address!r})"

    async def __aenter__(self) -> "Farm":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the connection; calls still running through it fail."""
        self._closed = True
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()

    @property
    def _stub(self) -> Any:
        """The service stub, its channel opened on first use (in the loop)."""
        if self._stub_object is None or self._channel is None:
            if self._closed:
                raise RuntimeError(f"{self!r} is closed")
            self._channel = grpc.aio.insecure_channel(self.address, options=[
                ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
            ])
            stub = service_pb2_grpc.ProcessFarmServiceStub
            self._stub_object = stub(self._channel)  # type: ignore[no-untyped-call]
        return self._stub_object

    # Errors ----------------------------------------------------------------

    def _call_error(self, error: grpc.RpcError, received: bool = False,
                    callable_name: str = "", job: bool = False) -> FarmError:
        """The FarmError for a failed RPC (see :func:`pprocd._inputs.call_error`)."""
        return call_error(error, self.address, self._no_server_hint, received, callable_name,
                          job)

    async def _unary(self, method: str, request: Any, job: bool = False) -> Any:
        try:
            return await getattr(self._stub, method)(request, timeout=_UNARY_TIMEOUT_S,
                                                     wait_for_ready=False)
        except grpc.RpcError as error:
            raise self._call_error(error, job=job) from None

    # Introspection ---------------------------------------------------------

    async def callables(self) -> List[callable_pb2.Callable]:
        """Every registered callable (see :meth:`pprocd.Farm.callables`)."""
        response = await self._unary("ListCallables", service_pb2.ListCallablesRequest())
        return list(response.callables)

    async def status(self) -> service_pb2.GetStatusResponse:
        """Pool and queue counters (see :meth:`pprocd.Farm.status`)."""
        status: service_pb2.GetStatusResponse = await self._unary(
            "GetStatus", service_pb2.GetStatusRequest())
        return status

    async def signature(self, name: Target) -> Optional[Signature]:
        """The parameters of callable ``name``, or None when the server has
        no such callable (or ``name`` is a Python function); asked of the
        server once per farm, again only for a name it did not know."""
        if not isinstance(name, str):
            return None
        if self._describing is None:
            self._describing = asyncio.Lock()
        async with self._describing:  # one ListCallables for many callers
            known = self._signatures
            if known is not None and (name in known or name in self._unknown):
                return known.get(name)
            described = {c.name: Signature(c) for c in await self.callables()}
            self._signatures = described
            if name not in described:
                self._unknown.add(name)
            return described.get(name)

    def _known_signature(self, name: Target) -> Optional[Signature]:
        known = self._signatures
        return known.get(name) if known is not None and isinstance(name, str) else None

    async def _learn(self, target: Target) -> None:
        """Makes ``target``'s parameters known to the input checks, if the
        server can be asked (else the call itself will say why)."""
        try:
            await self.signature(target)
        except FarmError:
            pass

    # Calls -------------------------------------------------------------------

    async def pmap(self, name: CallableArg, inputs: Inputs, limit: Optional[int] = None, *,
                   reuse: bool = True, timeout: Optional[float] = None, chunksize: int = 0,
                   packed: Optional[bool] = None,
                   item_stats: Optional[str] = None) -> List[Any]:
        """Runs ``name`` over ``inputs`` and returns the results in input
        order, as :meth:`pprocd.Farm.pmap` (a registered callable's name or a
        module-level Python function; the same forms of inputs, which may
        also be an async iterable). Raises the first failed input's
        :class:`pprocd.ItemError` and cancels the rest; cancelling the
        awaiting task cancels the call on the server."""
        if (self.packed if packed is None else packed) and item_stats is None:
            item_stats = "none"  # values only
        stream = self.map(name, inputs, limit, reuse=reuse, timeout=timeout,
                          chunksize=chunksize, packed=packed, item_stats=item_stats)
        async with stream:
            return await stream.values()

    def map(self, name: CallableArg, inputs: Inputs, limit: Optional[int] = None, *,
            reuse: bool = True, timeout: Optional[float] = None, chunksize: int = 0,
            packed: Optional[bool] = None, item_stats: Optional[str] = None,
            on_log: Optional[LogCallback] = None) -> ResultStream:
        """Runs ``name`` over ``inputs`` (one Map call) and returns its results
        in input order as an async iterator: ``async for value in
        farm.map(...)``. A failed input's error is raised where its result
        is read (the iteration may go on after it); ``.results()`` yields
        :class:`pprocd.Result` objects instead. Inputs stream to the server
        as the iteration goes. Leaving an ``async with`` block of the stream,
        ``aclose()``, dropping it, or cancelling the task that reads it
        cancels the call on the server. Options as for :meth:`pmap`. An
        iterable of inputs is read on the event loop: inputs that take time
        to produce belong in an async iterable."""
        return self._stream(True, name, inputs, limit, reuse, timeout, chunksize, packed,
                            item_stats, on_log)

    def queue(self, name: CallableArg, inputs: Inputs, limit: Optional[int] = None, *,
              reuse: bool = True, timeout: Optional[float] = None, chunksize: int = 0,
              packed: Optional[bool] = None, item_stats: Optional[str] = None,
              on_log: Optional[LogCallback] = None) -> ResultStream:
        """Like :meth:`map` (one Queue call), its results as they complete;
        ``.results()`` gives each one's ``index`` (its input's position), as
        the results of :class:`pprocd.Queue` do."""
        return self._stream(False, name, inputs, limit, reuse, timeout, chunksize, packed,
                            item_stats, on_log)

    def _stream(self, ordered: bool, name: CallableArg, inputs: Inputs, limit: Optional[int],
                reuse: bool, timeout: Optional[float], chunksize: int, packed: Optional[bool],
                item_stats: Optional[str], on_log: Optional[LogCallback]) -> ResultStream:
        if isinstance(inputs, (str, bytes)):
            raise TypeError("inputs is an iterable of inputs, one per invocation, not a string")
        target = as_target(name)
        options = self.options(limit, reuse, timeout, chunksize, packed, item_stats)
        if hasattr(inputs, "__len__") and hasattr(inputs, "__getitem__"):
            options.expected_inputs = len(inputs)  # type: ignore[arg-type]
        return ResultStream(self, ordered, target, inputs, options,
                            on_log if on_log is not None else self.on_log)

    def start(self, name: CallableArg, *args: Any, **kwargs: Any) -> "Channel":
        """A :class:`Channel` running ``name(*args, **kwargs)``, as
        :meth:`pprocd.Farm.start`: ``async with farm.start(...) as channel``
        or ``channel = await farm.start(...)`` starts it."""
        return self.open_channel(name, args, kwargs)

    def open_channel(self, name: CallableArg, args: Iterable[Any] = (),
                     kwargs: Optional[Dict[str, Any]] = None, *, reuse: bool = True,
                     timeout: Optional[float] = None, on_log: Optional[LogCallback] = None,
                     packed: Optional[bool] = None) -> "Channel":
        """Like :meth:`start`, with the options of
        :meth:`pprocd.Farm.open_channel`."""
        target = as_target(name, channel=True)
        options = self.options(None, reuse, timeout, 0, packed)
        return Channel(self, target, tuple(args), dict(kwargs or {}), options,
                       on_log if on_log is not None else self.on_log)

    # Background jobs -------------------------------------------------------

    async def submit_job(self, callable: CallableArg, inputs: Iterable[Any], *,
                         ordered: bool = False, name: Optional[str] = None,
                         idempotency_key: Optional[str] = None, retries: int = 0,
                         retry_backoff: Optional[float] = None,
                         socket_path: Optional[str] = None, limit: Optional[int] = None,
                         reuse: bool = True, timeout: Optional[float] = None,
                         chunksize: int = 0, packed: Optional[bool] = None) -> "Job":
        """Starts a background job, as :meth:`pprocd.Farm.submit_job` (the
        same arguments), and returns its :class:`Job` handle."""
        target = as_target(callable)
        await self._learn(target)
        request = submit_request(self, target, inputs, ordered=ordered, name=name,
                                 idempotency_key=idempotency_key, retries=retries,
                                 retry_backoff=retry_backoff, socket_path=socket_path,
                                 limit=limit, reuse=reuse, timeout=timeout, chunksize=chunksize,
                                 packed=packed)
        try:
            response = await self._stub.Submit(request, timeout=_UNARY_TIMEOUT_S,
                                               wait_for_ready=False)
        except grpc.RpcError as error:
            raise self._call_error(error, callable_name=str(target)) from None
        return Job(self, JobStatus.from_proto(response.job))

    async def job(self, job: str) -> "Job":
        """The :class:`Job` handle of a job, by id or name
        (:class:`pprocd.JobNotFound` when there is none)."""
        response = await self._unary("GetJob", service_pb2.GetJobRequest(job=job), job=True)
        return Job(self, JobStatus.from_proto(response.job))

    async def jobs(self, state: Union[JobState, str, None] = None, name: Optional[str] = None,
                   *, page_size: int = 0) -> AsyncIterator["Job"]:
        """Your jobs, newest first, as :meth:`pprocd.Farm.jobs`: ``async for
        job in farm.jobs(...)``."""
        token = ""
        while True:
            response = await self._unary("ListJobs",
                                         list_jobs_request(state, name, page_size, token))
            for job in response.jobs:
                yield Job(self, JobStatus.from_proto(job))
            token = response.next_page_token
            if not token:
                return


_default_farms: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Farm]" = (
    weakref.WeakKeyDictionary())


def default_farm() -> Farm:
    """The farm of the module-level functions in the running event loop:
    ``Farm()`` (the default address search), one per loop, made on first
    use."""
    loop = asyncio.get_running_loop()
    farm = _default_farms.get(loop)
    if farm is None:
        farm = _default_farms[loop] = Farm()
    return farm


async def pmap(name: CallableArg, inputs: Inputs, limit: Optional[int] = None, *,
               reuse: bool = True, timeout: Optional[float] = None, chunksize: int = 0,
               packed: Optional[bool] = None, item_stats: Optional[str] = None) -> List[Any]:
    """:meth:`Farm.pmap` on the default farm of the running loop."""
    return await default_farm().pmap(name, inputs, limit, reuse=reuse, timeout=timeout,
                                     chunksize=chunksize, packed=packed, item_stats=item_stats)


def start(name: CallableArg, *args: Any, **kwargs: Any) -> "Channel":
    """:meth:`Farm.start` on the default farm of the running loop."""
    return default_farm().start(name, *args, **kwargs)


__all__ = ["Farm", "Inputs", "default_farm", "pmap", "start"]
