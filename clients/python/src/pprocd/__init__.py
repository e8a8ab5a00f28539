"""pprocd: the Python client of a pprocd process farm.

The pprocess vocabulary over gRPC: :func:`pmap`, :class:`Map` (results in
input order), :class:`Queue` (results as they complete), :class:`Exchange`
(``store_data`` per result), ``start`` and :class:`Channel` (talk to one
running callable), :class:`FarmExecutor` (concurrent.futures), and
background jobs that outlive the client (:meth:`Farm.submit_job`,
:class:`BackgroundCallable`, :class:`BackgroundQueue`,
:class:`PersistentQueue`); :mod:`pprocd.aio` is the same for asyncio. Work runs
in the server's worker processes; values are JSON-shaped, never pickle:
by default many items travel as one JSON array (the packed form),
``Farm(packed=False)`` sends one protobuf ``google.protobuf.Value`` each.

.. code-block:: python

    import pprocd

    farm = pprocd.Farm()                    # $PPROCD_ADDRESS, else the per-user socket
    print(farm.pmap("fib", range(20), limit=4))

    results = farm.Map(limit=4)
    calc = results.manage("calculate")
    for i in range(10):
        for j in range(10):
            calc(i, j)
    print(results[0:10])
"""

# Not typing.TYPE_CHECKING: importing typing would slow the start of every
# process that imports a module of the package (the Python worker runtime).
TYPE_CHECKING = False
if TYPE_CHECKING:  # Static checkers see the names; the runtime imports lazily.
    from typing import Any
    from ._background import BackgroundCallable, BackgroundQueue, PersistentQueue
    from ._address import (ADDRESS_ENV, SYSTEM_SOCKET, Located, locate_server, normalize_address,
                           resolve_address, user_socket_path)
    from ._channel import Channel
    from ._collections import Exchange, InputChannel, ManagedCallable, Map, Queue
    from ._errors import (FarmError, InvalidItem, ItemCancelled, ItemCpuLimit, ItemCrashed,
                          ItemError, ItemFailed, ItemLimitExceeded, ItemMemoryLimit, ItemTimedOut,
                          JobCancelled, JobError, JobExists, JobFailed, JobInterrupted,
                          JobNotFound, PermissionDenied, PprocdError, RemoteTraceback,
                          ServerUnavailable)
    from ._executor import FarmExecutor, FarmFuture
    from ._farm import Farm, default_farm, pmap, start
    from ._function_ref import FunctionRef, function_ref
    from ._jobs import Job, JobEvent, JobResult, JobState, JobStatus, JobUpdate
    from ._results import LogRecord, Result, Stats

# Each public name and the module that defines it. The package imports
# them on first use (PEP 562), so that ``python -m pprocd.worker`` starts
# without loading gRPC.
_LAZY = {
    "ADDRESS_ENV": "_address", "SYSTEM_SOCKET": "_address", "Located": "_address",
    "locate_server": "_address", "normalize_address": "_address",
    "resolve_address": "_address", "user_socket_path": "_address", "Channel": "_channel", "Exchange": "_collections",
    "InputChannel": "_collections", "ManagedCallable": "_collections", "Map": "_collections",
    "Queue": "_collections", "FarmError": "_errors", "InvalidItem": "_errors",
    "ItemCancelled": "_errors", "ItemCpuLimit": "_errors", "ItemCrashed": "_errors",
    "ItemError": "_errors", "ItemFailed": "_errors", "ItemLimitExceeded": "_errors",
    "ItemMemoryLimit": "_errors", "ItemTimedOut": "_errors", "PprocdError": "_errors",
    "ServerUnavailable": "_errors", "FarmExecutor": "_executor", "FarmFuture": "_executor",
    "Farm": "_farm", "default_farm": "_farm", "pmap": "_farm", "start": "_farm",
    "LogRecord": "_results", "Result": "_results", "Stats": "_results",
    "BackgroundCallable": "_background", "BackgroundQueue": "_background",
    "PersistentQueue": "_background", "Job": "_jobs", "JobEvent": "_jobs", "JobResult": "_jobs",
    "JobState": "_jobs", "JobStatus": "_jobs", "JobUpdate": "_jobs", "JobCancelled": "_errors",
    "JobError": "_errors", "JobExists": "_errors", "JobFailed": "_errors",
    "JobInterrupted": "_errors", "JobNotFound": "_errors", "PermissionDenied": "_errors",
    "RemoteTraceback": "_errors", "FunctionRef": "_function_ref",
    "function_ref": "_function_ref",
}

# The modules whose classes make a Farm when given none (the default farm,
# ``FarmExecutor(address)``): the Farm facade, which installs the maker of
# both, is imported with them.
_ON_THE_FACADE = ("_collections", "_executor")


def __getattr__(name: str) -> "Any":
    if name == "aio":  # the asyncio client, a subpackage
        import importlib

        return importlib.import_module(".aio", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pprocd' has no attribute {name!r}")
    import importlib

    if module in _ON_THE_FACADE:
        importlib.import_module("._farm", __name__)
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> "list[str]":
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "ADDRESS_ENV",
    "BackgroundCallable",
    "BackgroundQueue",
    "Channel",
    "Exchange",
    "Farm",
    "FarmError",
    "FarmExecutor",
    "FarmFuture",
    "FunctionRef",
    "InputChannel",
    "InvalidItem",
    "ItemCancelled",
    "ItemCpuLimit",
    "ItemCrashed",
    "ItemError",
    "ItemFailed",
    "ItemLimitExceeded",
    "ItemMemoryLimit",
    "ItemTimedOut",
    "Job",
    "JobCancelled",
    "JobError",
    "JobEvent",
    "JobExists",
    "JobFailed",
    "JobInterrupted",
    "JobNotFound",
    "JobResult",
    "JobState",
    "JobStatus",
    "JobUpdate",
    "Located",
    "LogRecord",
    "ManagedCallable",
    "Map",
    "PermissionDenied",
    "PersistentQueue",
    "PprocdError",
    "Queue",
    "RemoteTraceback",
    "Result",
    "SYSTEM_SOCKET",
    "ServerUnavailable",
    "Stats",
    "default_farm",
    "function_ref",
    "locate_server",
    "normalize_address",
    "pmap",
    "resolve_address",
    "start",
    "user_socket_path",
]
