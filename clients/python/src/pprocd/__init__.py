"""pprocd: the Python client of a pprocd process farm.

The pprocess vocabulary over gRPC: :func:`pmap`, :class:`Map` (results in
input order), :class:`Queue` (results as they complete), :class:`Exchange`
(``store_data`` per result), ``start`` and :class:`Channel` (talk to one
running callable), and :class:`FarmExecutor` (concurrent.futures). Work runs
in the server's worker processes; values are JSON-shaped (protobuf
``google.protobuf.Value``), never pickle.

.. code-block:: python

    import pprocd

    farm = pprocd.Farm()                    # $PPROCD_ADDRESS or unix:run/pprocd.sock
    print(farm.pmap("fib", range(20), limit=4))

    results = farm.Map(limit=4)
    calc = results.manage("calculate")
    for i in range(10):
        for j in range(10):
            calc(i, j)
    print(results[0:10])
"""

from ._address import ADDRESS_ENV, DEFAULT_ADDRESS, normalize_address, resolve_address
from ._channel import Channel
from ._collections import Exchange, InputChannel, ManagedCallable, Map, Queue
from ._errors import (FarmError, InvalidItem, ItemCancelled, ItemCpuLimit, ItemCrashed, ItemError,
                      ItemFailed, ItemLimitExceeded, ItemMemoryLimit, ItemTimedOut, PprocdError,
                      ServerUnavailable)
from ._executor import FarmExecutor, FarmFuture
from ._farm import Farm, default_farm, pmap, start
from ._results import LogRecord, Result, Stats

__version__ = "0.1.0"

__all__ = [
    "ADDRESS_ENV",
    "Channel",
    "DEFAULT_ADDRESS",
    "Exchange",
    "Farm",
    "FarmError",
    "FarmExecutor",
    "FarmFuture",
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
    "LogRecord",
    "ManagedCallable",
    "Map",
    "PprocdError",
    "Queue",
    "Result",
    "ServerUnavailable",
    "Stats",
    "default_farm",
    "normalize_address",
    "pmap",
    "resolve_address",
    "start",
]
