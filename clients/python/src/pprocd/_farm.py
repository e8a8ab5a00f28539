"""Farm: a connection to one pprocd server, and the module's default farm.

The facade of the client: :class:`Farm` extends the connection layer
(:class:`_connection.Connection`) with pmap and the constructors of every
feature (Map, Queue, Exchange, channels, jobs, the executor), which it
imports here; no feature imports this module (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import atexit
import threading
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Union

import grpc

from . import _connection, _packed
from ._channel import Channel
from ._collections import Exchange, Map, Queue
from ._connection import PACKED_MAX_BYTES, PMAP_BATCH_INPUTS, CallableArg, Connection
from ._connection import batches as _batches
from ._errors import FarmError
from ._executor import FarmExecutor
from ._function_ref import FunctionRef, Target, as_target, target_fields
from ._inputs import make_options
from ._jobs import Job, JobState, JobStatus, list_jobs, submit_job
from ._results import LogCallback, emit_logs, error_from_proto, logs_from_proto
from ._stream import response_entries
from ._values import from_value, to_value
from .v1 import item_pb2, service_pb2


class Farm(Connection):
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

    def __repr__(self) -> str:
        return f"pprocd.Farm({self.address!r})"

    def __enter__(self) -> "Farm":
        return self

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
        return Map(self, limit, reuse=reuse, continuous=continuous, timeout=timeout,
                   chunksize=chunksize, on_log=on_log, packed=packed, item_stats=item_stats)

    def Queue(self, limit: Optional[int] = None, *, reuse: bool = True, continuous: bool = False,
              timeout: Optional[float] = None, chunksize: int = 0,
              on_log: Optional[LogCallback] = None, packed: Optional[bool] = None,
              item_stats: Optional[str] = None) -> "Queue":
        """A :class:`pprocd.Queue` on this farm: results as they complete."""
        return Queue(self, limit, reuse=reuse, continuous=continuous, timeout=timeout,
                     chunksize=chunksize, on_log=on_log, packed=packed, item_stats=item_stats)

    def Exchange(self, limit: Optional[int] = None, *, reuse: bool = True,
                 continuous: bool = False, timeout: Optional[float] = None, chunksize: int = 0,
                 on_log: Optional[LogCallback] = None, packed: Optional[bool] = None,
                 item_stats: Optional[str] = None) -> "Exchange":
        """A plain :class:`pprocd.Exchange` on this farm (read it with
        ``ready()`` and ``receive()``; subclass Exchange for ``store_data``)."""
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
        return submit_job(self, callable, inputs, ordered=ordered, name=name,
                          idempotency_key=idempotency_key, retries=retries,
                          retry_backoff=retry_backoff, socket_path=socket_path, limit=limit,
                          reuse=reuse, timeout=timeout, chunksize=chunksize, packed=packed)

    def job(self, job: str) -> "Job":
        """The :class:`Job` handle of a job, by id or name (asks the server
        for it now: :class:`JobNotFound` when there is none)."""
        response = self._unary(self._stub.GetJob, service_pb2.GetJobRequest(job=job), job=True)
        return Job(self, JobStatus.from_proto(response.job))

    def jobs(self, state: Union["JobState", str, None] = None, name: Optional[str] = None, *,
             page_size: int = 0) -> Iterator["Job"]:
        """Your jobs (every job for root and the server's admin group),
        newest first, as :class:`Job` handles; ``state`` (a
        :class:`JobState` or its name, e.g. ``"RUNNING"``) and ``name``
        filter. Pages of ``page_size`` (0: the server's 100) are asked for as
        the iteration goes."""
        return list_jobs(self, state, name, page_size)

    def executor(self, max_workers: Optional[int] = None, *, reuse: bool = True,
                 timeout: Optional[float] = None, packed: Optional[bool] = None,
                 item_stats: Optional[str] = None) -> "FarmExecutor":
        """A :class:`FarmExecutor` sharing this farm's connection."""
        return FarmExecutor(max_workers=max_workers, farm=self, reuse=reuse, timeout=timeout,
                            packed=packed, item_stats=item_stats)


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


_connection.install_facade(Farm, default_farm)

__all__ = ["Farm", "default_farm", "make_options", "pmap", "start"]
