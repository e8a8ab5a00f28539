"""pprocd.aio: the client of a pprocd process farm for asyncio code, on
grpcio's asyncio API (grpc.aio).

The vocabulary of :mod:`pprocd`, awaited: :class:`Farm` (``async with``),
``await farm.pmap(...)``, ``farm.map(...)`` (results in input order) and
``farm.queue(...)`` (results as they complete) as async iterators,
``farm.start(...)`` for a :class:`Channel`, and background jobs
(``await farm.submit_job(...)``, :class:`Job`). Inputs may be an iterable or
an async iterable; results, errors, options and Python functions passed by
reference are those of the sync client (``pprocd.Result``,
``pprocd.ItemError``, ``pprocd.ServerUnavailable``...). Cancelling a task
that awaits a call cancels the call on the server.

.. code-block:: python

    import asyncio
    import pprocd.aio

    async def main():
        async with pprocd.aio.Farm() as farm:
            print(await farm.pmap("square", range(10)))
            async for value in farm.queue("square", range(10)):
                print(value)

    asyncio.run(main())
"""

from ._calls import ResultStream
from ._channel import Channel
from ._farm import Farm, Inputs, default_farm, pmap, start
from ._jobs import Job

__all__ = ["Channel", "Farm", "Inputs", "Job", "ResultStream", "default_farm", "pmap", "start"]
