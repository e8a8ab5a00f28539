"""The connection layer of the client: one gRPC channel to a pprocd server.

:class:`Connection` owns the channel and its stub, turns a failed RPC into
the client's errors, checks options and inputs against the callables'
parameters (:class:`InputChecks`, with a per-connection signature cache) and
makes the unary calls. Every feature module (Map/Queue/Exchange, the
executor, channels, jobs, the asyncio client) builds on this layer alone;
the :class:`pprocd.Farm` facade (``_farm``) subclasses :class:`Connection`
and imports the features. Nothing here imports a feature or the facade.

The facade installs itself here (:func:`install_facade`) when it is
imported, so that a feature that needs *a* farm (``Map()`` on the default
farm, ``FarmExecutor(address)``) gets a :class:`pprocd.Farm` without
importing the module above it.

Thread-safe, as the Farm that extends it.
"""

from __future__ import annotations

import itertools
import os
import threading
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Set,
                    Union)

import grpc

from ._address import locate_server
from ._errors import FarmError
from ._function_ref import FunctionRef, Target
from ._inputs import InputChecks, call_error, make_options
from ._results import LogCallback
from ._signature import Signature
from .v1 import callable_pb2, service_pb2, service_pb2_grpc

# What a call runs: a registered callable's name, or a module-level Python
# function (passed by reference, see _function_ref).
CallableArg = Union[str, FunctionRef, Callable[..., Any]]

# The server accepts messages up to 16 MiB by default; take what it sends.
MAX_MESSAGE_BYTES = 64 << 20
UNARY_TIMEOUT_S = 30.0
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


def packed_default(packed: Optional[bool]) -> bool:
    """``packed`` if given, else what $PPROCD_PACKED says (default True)."""
    if packed is None:
        return os.environ.get(PACKED_ENV, "1").strip().lower() not in ("0", "false", "no")
    return bool(packed)


class Connection(InputChecks):
    """A connection to one pprocd server: the state and the unary calls
    every feature needs (see :class:`pprocd.Farm` for the arguments, which
    extends this class with the calls and the feature constructors).

    Thread-safe. A context manager; ``close()`` ends the connection.
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
        self.packed: bool = packed_default(packed)
        """Whether calls use the packed form unless told otherwise."""
        make_options(item_stats=item_stats)  # checks the name
        self.item_stats: Optional[str] = item_stats
        """The default ``item_stats`` of this farm's calls."""
        self._channel = grpc.insecure_channel(self.address, options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ])
        stub = service_pb2_grpc.ProcessFarmServiceStub
        self._stub = stub(self._channel)  # type: ignore[no-untyped-call]
        self._lock = threading.Lock()
        self._signatures: Optional[Dict[str, Signature]] = None
        self._unknown: Set[str] = set()
        self._closed = False

    def __enter__(self) -> "Connection":
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
            return method(request, timeout=UNARY_TIMEOUT_S, wait_for_ready=False)
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


def batches(sequence: Iterable[Any], size: int) -> Iterator[Sequence[Any]]:
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


# The facade's constructors (see install_facade); None until pprocd._farm
# is imported.
_farm_class: Optional[Callable[[Optional[str]], Connection]] = None
_default_farm: Optional[Callable[[], Connection]] = None


def install_facade(farm_class: Callable[[Optional[str]], Connection],
                   default_farm: Callable[[], Connection]) -> None:
    """Called once by pprocd._farm when it is imported: ``farm_class(address)``
    makes a :class:`pprocd.Farm`, ``default_farm()`` returns the default one."""
    global _farm_class, _default_farm
    _farm_class, _default_farm = farm_class, default_farm


def new_farm(address: Optional[str] = None) -> Connection:
    """A new :class:`pprocd.Farm` for ``address`` (the caller owns it)."""
    if _farm_class is None:
        raise RuntimeError("pprocd._farm is not imported (import pprocd.Farm first)")
    return _farm_class(address)


def default_farm() -> Connection:
    """:func:`pprocd.default_farm` (see there)."""
    if _default_farm is None:
        raise RuntimeError("pprocd._farm is not imported (import pprocd.Farm first)")
    return _default_farm()


__all__ = ["CallableArg", "Connection", "batches", "default_farm", "install_facade",
           "new_farm", "packed_default"]
