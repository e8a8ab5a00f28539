"""pprocd.aio against a real server: pmap, map and queue (results, order,
per-input errors, async inputs), output and the log callback, cancellation
from asyncio seen by the server, channels, background jobs, many
coroutines on one Farm, Python functions by reference, and the "no server"
error.

Each test runs its coroutine with asyncio.run (a loop of its own)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Any, AsyncIterator, Awaitable, Callable, List, TypeVar

import pytest

import pprocd
import pprocd.aio
from conftest import EVENT_LIMIT_S, ServerProcess, idle, wait_until

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pyfunctions import countdown, fail, square  # noqa: E402

T = TypeVar("T")
N = 6
# A sleep_ms input runs this long: only a cancel ends it within a test.
FOREVER_MS = 600_000


def run(body: Callable[[pprocd.aio.Farm], Awaitable[T]], server: ServerProcess) -> T:
    """Runs ``body(farm)`` in a new event loop on an aio Farm connected to
    ``server``; afterwards the server must be idle again."""
    async def main() -> T:
        async with pprocd.aio.Farm(server.address) as farm:
            return await body(farm)

    result = asyncio.run(main())
    with pprocd.Farm(server.address) as farm:
        wait_until(lambda: idle(farm), "the server to be idle after the test")
    return result


async def until(predicate: Callable[[], Awaitable[bool]], what: str) -> None:
    """Polls ``predicate`` without blocking the loop until it holds; fails
    only if it never does within a bound that only a hang reaches."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EVENT_LIMIT_S
    while not await predicate():
        if loop.time() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


async def running(farm: pprocd.aio.Farm, count: int) -> bool:
    return (await farm.status()).items_running == count


async def stopped(farm: pprocd.aio.Farm) -> bool:
    status = await farm.status()
    return (status.items_running == 0 and status.items_queued == 0
            and status.calls_active == 0)


async def numbers(count: int) -> AsyncIterator[int]:
    """An async producer that yields to the loop between its values."""
    for x in range(count):
        await asyncio.sleep(0)
        yield x


# pmap, map, queue ---------------------------------------------------------------

def test_pmap_returns_results_in_input_order_from_lists_generators_and_async_iterables(server):
    async def body(farm):
        sequence = [(i, j) for i in range(N) for j in range(N)]
        assert await farm.pmap("calculate", sequence, limit=3) == [i * 10 + j
                                                                   for i, j in sequence]
        assert (await farm.pmap("square", (x for x in range(5000))))[-2:] == [4998 ** 2,
                                                                              4999 ** 2]
        assert await farm.pmap("square", numbers(300)) == [x * x for x in range(300)]
        assert await farm.pmap("echo", []) == []
        assert await farm.pmap("calculate", [{"i": 2, "j": 3, "n": 100}],
                               packed=False) == [203]
        with pytest.raises(TypeError, match="JSON-shaped"):
            await farm.pmap("echo", [1, object()])

    run(body, server)


def test_map_yields_in_input_order_although_later_inputs_finish_first(server):
    async def body(farm):
        # Each row's later inputs sleep less: they complete first.
        inputs = [[i, j, 10, (N - j) * 3] for i in range(N) for j in range(N)]
        values = [value async for value in farm.map("calculate", inputs, limit=N)]
        assert values == [i * 10 + j for i in range(N) for j in range(N)]
        results = [r async for r in farm.map("square", range(5)).results()]
        assert [r.index for r in results] == [0, 1, 2, 3, 4]
        assert [r.value for r in results] == [0, 1, 4, 9, 16]

    run(body, server)


def test_queue_yields_every_result_once_with_its_input_index(server):
    async def body(farm):
        inputs = [[i, 0, 10, (N - i) * 5] for i in range(N)]
        seen = {}
        async for result in farm.queue("calculate", numbers_of(inputs), limit=N).results():
            assert result.ok and result.last and result.stats is not None
            assert result.index not in seen
            seen[result.index] = result.value
        assert seen == {i: i * 10 for i in range(N)}

    async def numbers_of(items: List[Any]) -> AsyncIterator[Any]:
        for item in items:
            yield item

    run(body, server)


def test_a_failed_input_raises_where_it_is_read_and_the_others_still_come(server):
    async def body(farm):
        with pytest.raises(pprocd.ItemFailed) as caught:
            await farm.pmap("chaos", ["ok", "raise", "ok"])
        assert caught.value.index == 1 and caught.value.callable == "chaos"

        got: List[Any] = []
        stream = farm.map("chaos", ["ok", "crash", "ok", "raise", "ok"])
        while True:
            try:
                got.append(await stream.__anext__())
            except StopAsyncIteration:
                break
            except pprocd.ItemError as error:
                got.append((error.kind, error.index))
        assert got == ["ok", ("CRASHED", 1), "ok", ("RAISED", 3), "ok"]

        results = [r async for r in farm.queue("chaos", ["ok", "raise"]).results()]
        assert sorted((r.index, r.ok) for r in results) == [(0, True), (1, False)]
        assert isinstance(next(r for r in results if not r.ok).error, pprocd.ItemFailed)

        with pytest.raises(pprocd.InvalidItem):
            await farm.pmap("calculate", [[1, 2], {"nope": 1}])
        with pytest.raises(pprocd.FarmError, match="NOT_FOUND"):
            await farm.pmap("no_such_callable", [1])

    run(body, server)


def test_output_reaches_results_and_the_log_callback_and_is_never_printed(server, capfd):
    records: List[pprocd.LogRecord] = []

    async def main() -> None:
        async with pprocd.aio.Farm(server.address, on_log=records.append) as farm:
            assert await farm.pmap("write_output", [["a\n", "stdout"], ["b\n", "stderr"]]) == [
                2, 2]
            (result,) = [r async for r in farm.map("write_output", [["c\n", "stdout", 2]])
                         .results()]
            assert [(r.stream, r.data, r.index) for r in result.logs] == [
                ("stdout", b"c\nc\n", 0)]
            async with farm.start("write_output", "d\n") as channel:
                assert await channel.result() == 2
                assert [r.data for r in channel.logs] == [b"d\n"]

    asyncio.run(main())
    assert sorted(r.data for r in records) == [b"a\n", b"b\n", b"c\nc\n", b"d\n"]
    out, err = capfd.readouterr()
    assert not any(letter + "\n" in out + err for letter in "abcd")


# Cancellation ---------------------------------------------------------------------

def test_cancelling_the_task_of_a_pmap_stops_its_items_on_the_server(server):
    async def body(farm):
        task = asyncio.ensure_future(farm.pmap("sleep_ms", [FOREVER_MS] * 3))
        await until(lambda: running(farm, 3), "three sleepers running")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await until(lambda: stopped(farm), "the server to stop the cancelled call's items")

    run(body, server)


def test_leaving_an_async_for_over_map_cancels_the_rest_of_the_call(server):
    async def body(farm):
        async for value in farm.map("sleep_ms", [0, FOREVER_MS, FOREVER_MS], limit=3):
            assert value is None or value == 0
            break
        await until(lambda: stopped(farm), "the server to stop the abandoned call's items")

        async with farm.queue("sleep_ms", [0, FOREVER_MS]) as stream:
            await stream.__anext__()
        await until(lambda: stopped(farm), "the server to stop the closed call's items")

    run(body, server)


def test_a_timeout_around_a_pmap_cancels_it(server):
    async def body(farm):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(farm.pmap("sleep_ms", [FOREVER_MS, FOREVER_MS]), 0.5)
        await until(lambda: stopped(farm), "the server to stop the timed-out call's items")

    run(body, server)


# Channels --------------------------------------------------------------------------

def test_channel_send_and_receive(server):
    async def body(farm):
        async with farm.start("countdown") as channel:
            await channel.send(3)
            assert await channel.receive() == 2
            await channel.send(1)
            assert await channel.receive() == 0  # it returns after sending 0
            with pytest.raises(EOFError):
                await channel.receive()
            assert await channel.result() is None
            assert channel.done()

        channel = await farm.start("accumulate")
        for number in range(1, 101):
            await channel.send(number)
        await channel.close()
        assert await channel.result(timeout=EVENT_LIMIT_S) == 5050
        with pytest.raises(ValueError, match="input is closed"):
            await channel.send(1)

        async with farm.start("rows", 5) as rows:
            assert [value async for value in rows] == [0, 1, 2, 3, 4]

    run(body, server)


def test_channel_receive_timeout_leaves_it_running_and_leaving_the_block_cancels_it(server):
    async def body(farm):
        async with farm.start("accumulate") as channel:
            with pytest.raises(TimeoutError):
                await channel.receive(timeout=0.2)
            assert not channel.done()
            await until(lambda: running(farm, 1), "the channel's callable running")
        await until(lambda: stopped(farm), "the server to stop the cancelled channel")
        with pytest.raises(pprocd.ItemCancelled):
            await channel.result()

        async with farm.start("accumulate") as failing:
            await failing.send("not a number")
            with pytest.raises(pprocd.ItemError):
                await failing.receive()

    run(body, server)


# Jobs ------------------------------------------------------------------------------

def test_a_job_is_submitted_watched_listed_and_collected(server):
    async def body(farm):
        name = f"aio-{uuid.uuid4().hex[:8]}"
        job = await farm.submit_job("square", range(10), name=name)
        assert len(job.id) == 16 and job.name == name
        assert job.status.items_total == 10
        assert await job.result() == [x * x for x in range(10)]
        assert job.state is pprocd.JobState.SUCCEEDED and await job.done()

        events = [event async for event in job.watch()]
        assert sorted(e.value for e in events if isinstance(e, pprocd.JobResult)) == sorted(
            x * x for x in range(10))
        assert isinstance(events[-1], pprocd.JobUpdate) and events[-1].state == "SUCCEEDED"
        assert (await farm.job(name)).id == job.id
        assert job.id in [j.id async for j in farm.jobs(name=name)]
        with pytest.raises(pprocd.JobExists):
            await farm.submit_job("square", [1], name=name)
        await job.delete()
        with pytest.raises(pprocd.JobNotFound):
            await farm.job(name)

        sleeper = await farm.submit_job("sleep_ms", [FOREVER_MS])
        assert await sleeper.cancel()
        with pytest.raises(pprocd.JobCancelled):
            await sleeper.result()
        await sleeper.delete()

    run(body, server)


# Many coroutines, Python functions, no server -------------------------------------------

def test_many_coroutines_share_one_farm(server):
    async def body(farm):
        async def one(k: int) -> List[Any]:
            if k % 3 == 0:
                return await farm.pmap("square", range(k, k + 50))
            if k % 3 == 1:
                return [value async for value in farm.map("square", numbers(k))]
            return sorted([value async for value in farm.queue("echo", range(k))])

        results = await asyncio.gather(*(one(k) for k in range(60)))
        for k, got in enumerate(results):
            if k % 3 == 0:
                assert got == [x * x for x in range(k, k + 50)]
            elif k % 3 == 1:
                assert got == [x * x for x in range(k)]
            else:
                assert got == list(range(k))

    run(body, server)


def test_python_functions_run_by_reference(server):
    async def body(farm):
        assert await farm.pmap(square, range(100)) == [x * x for x in range(100)]
        with pytest.raises(pprocd.ItemFailed) as caught:
            await farm.pmap(fail, ["boom"])
        assert caught.value.remote_type == "ValueError"
        async with farm.start(countdown, 3) as channel:
            assert [await channel.receive() for _ in range(3)] == [3, 2, 1]
            await channel.send("done")
            assert await channel.result() == "done"
        job = await farm.submit_job(square, [2, 3])
        assert await job.result() == [4, 9]
        await job.delete()
        with pytest.raises(TypeError, match="module-level"):
            farm.map(lambda x: x, [1])

    run(body, server)


def test_module_level_pmap_uses_the_default_address(server, monkeypatch):
    monkeypatch.setenv(pprocd.ADDRESS_ENV, server.address)

    async def main() -> List[Any]:
        values = await pprocd.aio.pmap("square", range(4))
        await pprocd.aio.default_farm().close()
        return values

    assert asyncio.run(main()) == [0, 1, 4, 9]


def test_no_server_raises_server_unavailable_from_every_api(tmp_path):
    address = f"unix:{tmp_path}/none.sock"

    async def main() -> None:
        async with pprocd.aio.Farm(address) as farm:
            with pytest.raises(pprocd.ServerUnavailable, match="cannot reach pprocd at") as caught:
                await farm.pmap("square", [1])
            assert "pprocd --listen" in str(caught.value)
            with pytest.raises(pprocd.ServerUnavailable):
                async for _ in farm.queue("square", [1]):
                    pass
            with pytest.raises(pprocd.ServerUnavailable):
                await farm.status()
            with pytest.raises(pprocd.ServerUnavailable):
                await farm.submit_job("square", [1])
            with pytest.raises(pprocd.ServerUnavailable):
                await (await farm.start("accumulate")).result()

    asyncio.run(main())
