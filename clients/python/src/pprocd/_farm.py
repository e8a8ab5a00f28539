"""Farm: a connection to one pprocd server, and the module's default farm."""

from __future__ import annotations

import atexit
import itertools
import os
import threading
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Optional,
                    Sequence, Set, Union)

import grpc

from ._address import locate_server

from ._errors import FarmError
from . import _packed
from ._function_ref import FunctionRef, Target, as_target, target_fields
from ._results import LogCallback, emit_logs, error_from_proto, logs_from_proto
from ._signature import Signature
from ._inputs import InputChecks, call_error, make_options
from ._values import from_value, to_value
from .v1 import callable_pb2, item_pb2, service_pb2, service_pb2_grpc

# What a call runs: a registered callable's name, or a module-level Python
# function (passed by reference, see _function_ref).
CallableArg = Union[str, FunctionRef, Callable[..., Any]]

if TYPE_CHECKING:
    from ._channel import Channel
    from ._collections import Exchange, Map, Queue
    from ._executor import FarmExecutor
    from ._jobs import Job, JobState

# The server accepts messages up to 16 MiB by default; take what it sends.
_MAX_MESSAGE_BYTES = 64 << 20
_UNARY_TIMEOUT_S = 30.0
# Inputs per request of a packed pmap: large enough that a request's fixed
# cost (a message, a wake-up of the server) is small beside its items, small
# enough that the first results come early and a request of small values
# stays far below the server's 4 MiB message limit (see PACKED_MAX_BYTES).
PMAP_BATCH_INPUTS = 4096
# A packed request of more bytes than this is split (in halves) before it
# is sent; one input alone may still exceed it (the server then answers
# RESOURCE_EXHAUSTED if it is over its limit).
PACKED_MAX_BYTES = 1 << 20

# Set to 0 to make the Value form the default of Farms made without
# ``packed`` (e.g. to talk to a server that predates the packed form).
PACKED_ENV = "PPROCD_PACKED"

class Farm(InputChecks):
    """A connection to one pprocd server (pprocess's module, as an object).

    ``address``: see :func:`pprocd.resolve_address` (argument, else
    $PPROCD_ADDRESS, else the per-user socket, else the system socket). Nothing connects until
    the first call; a server that is not running makes that call raise
    :class:`ServerUnavailable`. ``on_log``, if given, is called with every
    :class:`LogRecord` (what callables write to stdout/stderr) of the calls
    made through this farm; output is never printed unasked.

    ``packed`` (default True, unless $PPROCD_PACKED is 0): calls move items
    in the packed form (inputs as one JSON array per request, successful
    results as blocks), far cheaper per item; False uses the Value form
    (one google.protobuf.Value per item). Both give the same values and
    errors; every call method takes ``packed=`` to choose for one call.
    ``item_stats``: the default of the calls' ``item_stats`` (see
    :func:`make_options`).

    Thread-safe. A context manager; ``close()`` ends its connection.
    """

    def __init__(self, address: Optional[str] = None, *,
                 on_log: Optional[LogCallback] = None, packed: Optional[bool] = None,
                 item_stats: Optional[str] = None) -> None:
        located = locate_server(address)
        self.address: str = located.target
        """The gRPC target this farm talks to."""
        self._no_server_hint = located.no_server_hint
        self.on_log: Optional[LogCallback] = on_log
        """The default log callback of this farm's calls."""
        if packed is None:
            packed = os.environ.get(PACKED_ENV, "1").strip().lower() not in ("0", "false", "no")
        self.packed: bool = bool(packed)
        """Whether calls use the packed form unless told otherwise."""
        make_options(item_stats=item_stats)  # checks the name
        self.item_stats: Optional[str] = item_stats
        """The default ``item_stats`` of this farm's calls."""
        self._channel = grpc.insecure_channel(self.address, options=[
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
        ])
        stub = service_pb2_grpc.ProcessFarmServiceStub
        self._stub = stub(self._channel)  # type: ignore[no-untyped-call]
        self._lock = threading.Lock()
        self._signatures: Optional[Dict[str, Signature]] = None
        self._unknown: Set[str] = set()
        self._closed = False

    def __repr__(self) -> str:
        return f"pprocd.Farm({self.address!r})"

    def __enter__(self) -> "Farm":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection; calls still running through it fail."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._channel.close()

    # Errors ----------------------------------------------------------------

    def _call_error(self, error: grpc.RpcError, received: bool = False,
                    callable_name: str = "", job: bool = False) -> FarmError:
        """The FarmError for a failed RPC (see :func:`call_error`)."""
        return call_error(error, self.address, self._no_server_hint, received, callable_name,
                          job)

    def _unary(self, method: Any, request: Any, job: bool = False) -> Any:
        try:
            return method(request, timeout=_UNARY_TIMEOUT_S, wait_for_ready=False)
        except grpc.RpcError as error:
            raise self._call_error(error, job=job) from None

    # Introspection ---------------------------------------------------------

    def callables(self) -> List[callable_pb2.Callable]:
        """Every registered callable: name, kind (function or channel),
        parameters with defaults, description (protobuf messages)."""
        response = self._unary(self._stub.ListCallables, service_pb2.ListCallablesRequest())
        return list(response.callables)

    def status(self) -> service_pb2.GetStatusResponse:
        """Pool and queue counters: workers idle/busy/starting, items queued
        and running, totals, uptime (a protobuf message)."""
        status: service_pb2.GetStatusResponse = self._unary(self._stub.GetStatus,
                                                            service_pb2.GetStatusRequest())
        return status

    def _known_signature(self, name: Target) -> Optional[Signature]:
        return self.signature(name)

    def signature(self, name: Target) -> Optional[Signature]:
        """The parameters of callable ``name``, or None when the server has no
        such callable. Asked of the server once per farm (again only for a
        name it did not know). None for a Python function: the farm checks
        its items against the function itself."""
        if not isinstance(name, str):
            return None
        known = self._signatures
        if known is not None:
            found = known.get(name)
            if found is not None or name in self._unknown:
                return found
        described = {c.name: Signature(c) for c in self.callables()}
        with self._lock:
            self._signatures = described
            if name not in described:
                self._unknown.add(name)
        return described.get(name)

    # pprocess vocabulary ---------------------------------------------------

    def pmap(self, name: CallableArg, sequence: Iterable[Any], limit: Optional[int] = None, *,
             reuse: bool = True, timeout: Optional[float] = None,
             chunksize: int = 0, packed: Optional[bool] = None,
             item_stats: Optional[str] = None) -> List[Any]:
        """Runs callable ``name`` over ``sequence`` and returns the results in
        input order (pprocess.pmap). ``name`` is a registered callable's name
        or a module-level Python function (``fn(x)`` for each element ``x``;
        TypeError at once for a lambda, closure or bound method). For a
        callable by name, each element is one input: a tuple or list spreads
        over the parameters, a dict names them. The sequence is
        streamed, never held whole. Raises the first failed input's
        :class:`ItemError` (and cancels the rest). ``packed``, ``item_stats``:
        see :class:`Farm` (pmap returns values only: in the packed form it
        asks for no stats unless told)."""
        target = as_target(name)
        label = str(target)
        if (self.packed if packed is None else packed) and item_stats is None:
            item_stats = "none"
        options = self.options(limit, reuse, timeout, chunksize, packed, item_stats)
        if isinstance(sequence, Sequence):
            options.expected_inputs = len(sequence)
        problem: List[BaseException] = []
        sent = [0]
        make_requests = self._pmap_packed_requests if options.packed else self._pmap_requests
        out: List[Any] = []
        call = self._stub.Map(make_requests(target, options, sequence, problem, sent),
                              wait_for_ready=False)
        received = False
        try:
            for response in call:
                received = True
                if problem:
                    raise problem[0]
                if response.results:
                    self._pmap_take(label, response, out)
                else:  # the packed form's common case: blocks only
                    for block in response.blocks:
                        out.extend(_packed.loads_values(block.values))
        except grpc.RpcError as error:
            if problem:
                raise problem[0] from None
            raise self._call_error(error, received, label) from None
        finally:
            call.cancel()
        if problem:
            raise problem[0]
        if len(out) < sent[0]:  # every input gives at least one result
            raise FarmError(f"{label}: the server answered {len(out)} of {sent[0]} inputs"
                            + (" (does it predate the packed form? packed=False uses the "
                               "Value form)" if options.packed else ""))
        return out

    def _pmap_requests(self, name: Target, options: item_pb2.CallOptions, sequence: Iterable[Any],
                       problem: List[BaseException],
                       sent: List[int]) -> Iterator[service_pb2.MapRequest]:
        """The Value form's requests of a pmap; an input that cannot be sent
        ends them, its error in ``problem``; ``sent[0]`` counts the inputs."""
        batch: List[Any] = []
        ref = name if isinstance(name, FunctionRef) else None
        try:
            yield service_pb2.MapRequest(options=options, **target_fields(name))
            for index, item in enumerate(sequence):
                value = to_value(item if ref is None else ref.map_item(item))
                self.check(name, value, index)
                batch.append(value)
                if len(batch) >= 1024:
                    sent[0] += len(batch)
                    yield service_pb2.MapRequest(inputs=batch)
                    batch = []
        except Exception as error:  # raised in the caller's thread
            problem.append(error)
            return
        if batch:
            sent[0] += len(batch)
            yield service_pb2.MapRequest(inputs=batch)

    def _pmap_packed_requests(self, name: Target, options: item_pb2.CallOptions,
                              sequence: Iterable[Any], problem: List[BaseException],
                              sent: List[int]) -> Iterator[service_pb2.MapRequest]:
        """The packed form's requests of a pmap: PMAP_BATCH_INPUTS inputs
        each, checked and encoded in bulk; as :meth:`_pmap_requests`."""
        index = 0
        ref = name if isinstance(name, FunctionRef) else None
        try:
            yield service_pb2.MapRequest(options=options, **target_fields(name))
            for batch in _batches(sequence, PMAP_BATCH_INPUTS):
                if ref is not None:
                    batch = ref.map_items(batch)
                self.check_objs(name, batch, index)
                index += len(batch)
                for data in _packed.encode_batches(batch, PACKED_MAX_BYTES):
                    sent[0] = index
                    yield service_pb2.MapRequest(packed_inputs=data)
        except Exception as error:  # raised in the caller's thread
            problem.append(error)

    def _pmap_take(self, name: str, response: service_pb2.MapResponse, out: List[Any]) -> None:
        """Appends a response's values to ``out`` in input order; raises the
        first failed input's error."""
        from ._stream import response_entries

        for _, raw in response_entries(response.results, response.blocks):
            if type(raw) is tuple:
                out.append(raw[0])
                continue
            result: item_pb2.ItemResult = raw  # type: ignore[assignment]
            outcome = result.WhichOneof("outcome")
            if outcome == "error":
                logs = logs_from_proto(result.logs, name, result.index)
                raise error_from_proto(result.error, name, result.index, None, logs)
            if result.logs and self.on_log is not None:
                emit_logs(self.on_log, logs_from_proto(result.logs, name, result.index))
            if outcome == "data":
                out.append(bytes(result.data))
            else:
                out.append(from_value(result.value))

    def Map(self, limit: Optional[int] = None, *, reuse: bool = True, continuous: bool = False,
            timeout: Optional[float] = None, chunksize: int = 0,
            on_log: Optional[LogCallback] = None, packed: Optional[bool] = None,
            item_stats: Optional[str] = None) -> "Map":
        """A :class:`pprocd.Map` on this farm: results in input order."""
        from ._collections import Map
        return Map(self, limit, reuse=reuse, continuous=continuous, timeout=timeout,
                   chunksize=chunksize, on_log=on_log, packed=packed, item_stats=item_stats)

    def Queue(self, limit: Optional[int] = None, *, reuse: bool = True, continuous: bool = False,
              timeout: Optional[float] = None, chunksize: int = 0,
              on_log: Optional[LogCallback] = None, packed: Optional[bool] = None,
              item_stats: Optional[str] = None) -> "Queue":
        """A :class:`pprocd.Queue` on this farm: results as they complete."""
        from ._collections import Queue
        return Queue(self, limit, reuse=reuse, continuous=continuous, timeout=timeout,
                     chunksize=chunksize, on_log=on_log, packed=packed, item_stats=item_stats)

    def Exchange(self, limit: Optional[int] = None, *, reuse: bool = True,
                 continuous: bool = False, timeout: Optional[float] = None, chunksize: int = 0,
                 on_log: Optional[LogCallback] = None, packed: Optional[bool] = None,
                 item_stats: Optional[str] = None) -> "Exchange":
        """A plain :class:`pprocd.Exchange` on this farm (read it with
        ``ready()`` and ``receive()``; subclass Exchange for ``store_data``)."""
        from ._collections import Exchange
        return Exchange(self, limit, reuse=reuse, continuous=continuous, timeout=timeout,
                        chunksize=chunksize, on_log=on_log, packed=packed, item_stats=item_stats)

    def start(self, name: CallableArg, *args: Any, **kwargs: Any) -> "Channel":
        """Runs callable ``name`` with these arguments and returns a
        :class:`Channel` to talk to it (pprocess.start). Pooled isolation,
        no timeout; see :meth:`open_channel` for options. A module-level
        Python function is called as ``name(channel, *args, **kwargs)``: its
        first parameter is the channel (``send(value)``, ``receive()``)."""
        return self.open_channel(name, args, kwargs)

    def open_channel(self, name: CallableArg, args: Sequence[Any] = (),
                     kwargs: Optional[Dict[str, Any]] = None, *, reuse: bool = True,
                     timeout: Optional[float] = None,
                     on_log: Optional[LogCallback] = None,
                     packed: Optional[bool] = None) -> "Channel":
        """Like :meth:`start`, with options: ``reuse`` (False: a brand-new
        process), ``timeout`` (seconds for the whole invocation) and
        ``on_log``; ``packed`` (see :class:`Farm`)."""
        from ._channel import Channel
        target = as_target(name, channel=True)
        options = self.options(None, reuse, timeout, 0, packed)
        arguments: Any
        if options.packed:
            arguments = self.encode(target, args, kwargs or {})
        else:
            arguments = self.pack(target, args, kwargs or {})
        return Channel(self, target, arguments, options,
                       on_log if on_log is not None else self.on_log)

    # Background jobs -------------------------------------------------------

    def submit_job(self, callable: CallableArg, inputs: Iterable[Any], *, ordered: bool = False,
                   name: Optional[str] = None, idempotency_key: Optional[str] = None,
                   retries: int = 0, retry_backoff: Optional[float] = None,
                   socket_path: Optional[str] = None, limit: Optional[int] = None,
                   reuse: bool = True, timeout: Optional[float] = None,
                   chunksize: int = 0, packed: Optional[bool] = None) -> "Job":
        """Starts a background job: ``callable`` over ``inputs`` (one
        invocation per element, as :meth:`pmap` takes them: a tuple or list
        spreads over the parameters, a dict names them), run by the server
        whether or not this client stays. Returns its :class:`Job` handle.
        ``callable`` may be a module-level Python function (each element is
        then one argument, as for :meth:`pmap`).

        ``ordered``: results stored in input order (else as they complete).
        ``name``: unique among your jobs; every job method accepts it in place
        of the id (:class:`JobExists` when taken). ``idempotency_key``: a
        Submit with a key you already used returns that job instead of
        starting another. ``retries``: attempts after a failed one (an input
        failed, or the server stopped while it ran), ``retry_backoff`` seconds
        before the first retry, doubling after (None: the server's 1 s).
        ``socket_path``: the server serves this job alone on a UNIX socket
        there (made absolute here). ``limit``, ``reuse``, ``timeout``,
        ``chunksize``: as for :meth:`pmap`. Inputs are checked against the
        callable's parameters first (:class:`InvalidItem`). ``packed``: see
        :class:`Farm`.
        """
        from ._jobs import submit_job
        return submit_job(self, callable, inputs, ordered=ordered, name=name,
                          idempotency_key=idempotency_key, retries=retries,
                          retry_backoff=retry_backoff, socket_path=socket_path, limit=limit,
                          reuse=reuse, timeout=timeout, chunksize=chunksize, packed=packed)

    def job(self, job: str) -> "Job":
        """The :class:`Job` handle of a job, by id or name (asks the server
        for it now: :class:`JobNotFound` when there is none)."""
        from ._jobs import Job, JobStatus
        response = self._unary(self._stub.GetJob, service_pb2.GetJobRequest(job=job), job=True)
        return Job(self, JobStatus.from_proto(response.job))

    def jobs(self, state: Union["JobState", str, None] = None, name: Optional[str] = None, *,
             page_size: int = 0) -> Iterator["Job"]:
        """Your jobs (every job for root and the server's admin group),
        newest first, as :class:`Job` handles; ``state`` (a
        :class:`JobState` or its name, e.g. ``"RUNNING"``) and ``name``
        filter. Pages of ``page_size`` (0: the server's 100) are asked for as
        the iteration goes."""
        from ._jobs import list_jobs
        return list_jobs(self, state, name, page_size)

    def executor(self, max_workers: Optional[int] = None, *, reuse: bool = True,
                 timeout: Optional[float] = None, packed: Optional[bool] = None,
                 item_stats: Optional[str] = None) -> "FarmExecutor":
        """A :class:`FarmExecutor` sharing this farm's connection."""
        from ._executor import FarmExecutor
        return FarmExecutor(max_workers=max_workers, farm=self, reuse=reuse, timeout=timeout,
                            packed=packed, item_stats=item_stats)


def _batches(sequence: Iterable[Any], size: int) -> Iterator[Sequence[Any]]:
    """``sequence`` in consecutive batches of ``size`` (the last shorter):
    slices of a list or tuple (a copy of pointers), else lists taken from
    its iterator."""
    if type(sequence) is list or type(sequence) is tuple:
        for start in range(0, len(sequence), size):
            yield sequence[start:start + size]
        return
    iterator = iter(sequence)
    while True:
        batch = list(itertools.islice(iterator, size))
        if not batch:
            return
        yield batch


_default_lock = threading.Lock()
_default_farm: Optional[Farm] = None


def default_farm() -> Farm:
    """The farm the module-level functions use: ``Farm()`` (the address from
    $PPROCD_ADDRESS, else the per-user socket, else the system socket), made
    on first use and closed at exit."""
    global _default_farm
    with _default_lock:
        if _default_farm is None:
            _default_farm = Farm()
            atexit.register(_default_farm.close)
        return _default_farm


def pmap(name: CallableArg, sequence: Iterable[Any], limit: Optional[int] = None, *,
         reuse: bool = True, timeout: Optional[float] = None, chunksize: int = 0,
         packed: Optional[bool] = None, item_stats: Optional[str] = None) -> List[Any]:
    """:meth:`Farm.pmap` on the default farm."""
    return default_farm().pmap(name, sequence, limit, reuse=reuse, timeout=timeout,
                               chunksize=chunksize, packed=packed, item_stats=item_stats)


def start(name: CallableArg, *args: Any, **kwargs: Any) -> "Channel":
    """:meth:`Farm.start` on the default farm."""
    return default_farm().start(name, *args, **kwargs)


__all__ = ["Farm", "default_farm", "make_options", "pmap", "start"]
