"""What the sync and the asyncio Farm share about a call's inputs: its
options (:func:`make_options`), the checking and encoding of inputs against
a callable's parameters (:class:`InputChecks`), and the error of a failed
RPC (:func:`call_error`).

Pure: nothing here talks to the server. A Farm supplies the parameters of
a callable (``_known_signature``): the sync Farm asks the server, the
asyncio Farm looks in what it asked before.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import grpc
from google.protobuf.struct_pb2 import Value

from . import _packed
from ._errors import (FarmError, InvalidItem, JobExists, JobNotFound, PermissionDenied,
                      ServerUnavailable)
from ._function_ref import FunctionRef, Target
from ._signature import Signature
from ._values import arguments_to_obj, arguments_to_value, to_value
from .v1 import item_pb2

# Text of gRPC statuses for a server that is not there at all.
_UNREACHABLE_HINTS = ("failed to connect", "connection refused", "no such file",
                      "connect failed", "dns resolution failed", "name resolution")




def call_error(error: grpc.RpcError, address: str, no_server_hint: str, received: bool = False,
               callable_name: str = "", job: bool = False) -> FarmError:
    """The FarmError for a failed RPC (sync or asyncio) to the server at
    ``address``: :class:`ServerUnavailable` (with ``no_server_hint``) when
    nothing answered before any response (``received``), and by status code
    :class:`JobNotFound` (NOT_FOUND of an RPC that named a job: ``job``),
    :class:`PermissionDenied`, :class:`JobExists`, else :class:`FarmError`.
    ``callable_name`` prefixes the message."""
    code = error.code() if hasattr(error, "code") else None
    details = (error.details() if hasattr(error, "details") else "") or ""
    if code == grpc.StatusCode.UNAVAILABLE:
        lowered = details.lower()
        if not received and any(hint in lowered for hint in _UNREACHABLE_HINTS):
            return ServerUnavailable(
                f"cannot reach pprocd at {address}: is it running? {no_server_hint}",
                code, details)
        if received:
            return FarmError(f"lost the connection to pprocd at {address}: {details}",
                             code, details)
    name = code.name if code is not None else "UNKNOWN"
    prefix = f"{callable_name}: " if callable_name else ""
    cls = FarmError
    if code == grpc.StatusCode.NOT_FOUND and job:
        cls = JobNotFound
    elif code == grpc.StatusCode.PERMISSION_DENIED:
        cls = PermissionDenied
    elif code == grpc.StatusCode.ALREADY_EXISTS:
        cls = JobExists
    return cls(f"{prefix}{name}: {details}", code, details)


class InputChecks:
    """Options and inputs of a Farm's calls, checked against the callable's
    parameters before they are sent (the mixin of both Farms).

    A subclass sets ``packed`` and ``item_stats`` (its defaults) and defines
    ``_known_signature``."""

    packed: bool
    item_stats: Optional[str]

    def _known_signature(self, name: Target) -> Optional[Signature]:
        """The parameters of callable ``name``, or None when unknown (no such
        callable, a Python function, or not known yet); may raise
        :class:`FarmError` when the server cannot be asked."""
        raise NotImplementedError

    def parameter_names(self, name: Target) -> Optional[List[str]]:
        """The parameter names of callable ``name`` in order, or None when the
        server has no such callable."""
        found = self._known_signature(name)
        return found.names if found is not None else None

    def pack(self, name: Target, args: Sequence[Any], kwargs: Dict[str, Any],
             index: Optional[int] = None) -> Value:
        """The one input Value for calling ``name(*args, **kwargs)``, checked
        against its parameters: raises :class:`InvalidItem` (with ``index``,
        the input's position, if given) if it would not bind (the server
        would refuse the whole call). Unchecked when the server cannot be
        asked (the call itself will say why)."""
        if isinstance(name, FunctionRef):
            return to_value(name.call_item(args, kwargs))
        value = arguments_to_value(name, args, kwargs, self.parameter_names)
        self.check(name, value, index)
        return value

    def options(self, limit: Optional[int] = None, reuse: bool = True,
                timeout: Optional[float] = None, chunksize: int = 0,
                packed: Optional[bool] = None,
                item_stats: Optional[str] = None) -> item_pb2.CallOptions:
        """:func:`make_options` with this farm's defaults for ``packed`` and
        ``item_stats`` (None: the farm's)."""
        return make_options(limit, reuse, timeout, chunksize,
                            self.packed if packed is None else bool(packed),
                            self.item_stats if item_stats is None else item_stats)

    def pack_obj(self, name: Target, args: Sequence[Any], kwargs: Dict[str, Any],
                 index: Optional[int] = None) -> Any:
        """Like :meth:`pack`, as the plain value the packed form sends."""
        if isinstance(name, FunctionRef):
            return name.call_item(args, kwargs)
        obj = arguments_to_obj(name, args, kwargs, self.parameter_names)
        self.check_objs(name, (obj,), index)
        return obj

    def encode(self, name: Target, args: Sequence[Any], kwargs: Dict[str, Any],
               index: Optional[int] = None) -> bytes:
        """The one input of ``name(*args, **kwargs)`` as JSON (the packed
        form), checked as by :meth:`pack`; TypeError for a value that is not
        JSON-shaped."""
        return _packed.dumps(self.pack_obj(name, args, kwargs, index))

    def check_objs(self, name: Target, items: Sequence[Any],
                   first_index: Optional[int] = 0) -> None:
        """Raises :class:`InvalidItem` for the first of ``items`` (plain
        values, the packed form's inputs numbered from ``first_index``) that
        does not bind to callable ``name``'s parameters."""
        try:
            found = self._known_signature(name)
        except FarmError:
            return
        if found is None or found.binds_anything:
            return
        problem = found.first_problem(items)
        if problem is not None:
            position, reason = problem
            index = None if first_index is None else first_index + position
            raise InvalidItem(reason, callable=str(name), index=index)

    def check(self, name: Target, value: Value, index: Optional[int] = None) -> None:
        """Raises :class:`InvalidItem` if ``value`` does not bind to callable
        ``name``'s parameters (see :meth:`pack`)."""
        try:
            found = self._known_signature(name)
        except FarmError:
            return
        if found is not None:
            problem = found.check(value)
            if problem:
                raise InvalidItem(problem, callable=str(name), index=index)


ITEM_STATS_MODES = {
    None: item_pb2.ITEM_STATS_UNSPECIFIED,
    "per_item": item_pb2.ITEM_STATS_PER_ITEM,
    "per_chunk": item_pb2.ITEM_STATS_PER_CHUNK,
    "none": item_pb2.ITEM_STATS_NONE,
}
def make_options(limit: Optional[int] = None, reuse: bool = True, timeout: Optional[float] = None,
                 chunksize: int = 0, packed: bool = False,
                 item_stats: Optional[str] = None) -> item_pb2.CallOptions:
    """CallOptions from the Python-side names.

    ``limit``: inputs of the call running at once (None or 0: the pool's
    size). ``reuse``: True runs inputs in pooled, reused workers
    (ISOLATION_POOLED); False gives each input a brand-new process
    (ISOLATION_FRESH). ``timeout``: seconds per input (None: no timeout).
    ``chunksize``: inputs per hop to a worker (0: automatic). ``packed``:
    the packed form of items. ``item_stats``: which resource figures come
    with successful results: ``"per_item"``, ``"per_chunk"`` (one summary per
    block of results), ``"none"``, or None (the form's default: per item in
    the Value form, per chunk in the packed form).
    """
    if item_stats not in ITEM_STATS_MODES:
        raise ValueError(f"item_stats must be 'per_item', 'per_chunk', 'none' or None, "
                         f"got {item_stats!r}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be positive or None, got {limit}")
    if chunksize < 0:
        raise ValueError(f"chunksize must be 0 (automatic) or positive, got {chunksize}")
    timeout_ms = 0
    if timeout is not None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive seconds or None, got {timeout}")
        timeout_ms = max(1, round(timeout * 1000))
    isolation = item_pb2.ISOLATION_POOLED if reuse else item_pb2.ISOLATION_FRESH
    return item_pb2.CallOptions(limit=limit or 0, chunksize=chunksize, timeout_ms=timeout_ms,
                                isolation=isolation, packed=packed,
                                item_stats=ITEM_STATS_MODES[item_stats])


__all__ = ["InputChecks", "ITEM_STATS_MODES", "call_error", "make_options"]
