"""FarmExecutor is a concurrent.futures.Executor: submit, map, as_completed,
wait, shutdown and cancel behave as the standard library says, and cancel
really kills a running input."""

import concurrent.futures as cf
import threading

import pytest

import pprocd
from conftest import EVENT_LIMIT_S, max_overlap, no_work, wait_until

FOREVER_MS = 600_000


@pytest.fixture
def executor(farm):
    with pprocd.FarmExecutor(farm=farm, max_workers=2) as ex:
        yield ex


def cancel_within_limit(future):
    """future.cancel() on another thread, so that a server that never answers
    fails the test instead of hanging it."""
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(future.cancel()), daemon=True)
    thread.start()
    thread.join(EVENT_LIMIT_S)
    assert outcome, "cancel() got no answer from the server"
    return outcome[0]


def test_is_a_real_executor_with_real_futures(executor):
    assert isinstance(executor, cf.Executor)
    future = executor.submit("calculate", 3, 4, n=100)
    assert isinstance(future, cf.Future)
    assert future.result() == 304
    assert executor.submit("square", 12).result() == 144
    assert executor.submit("calculate", i=1, j=2).result() == 12


def test_a_failed_input_sets_the_futures_exception(executor):
    future = executor.submit("chaos", "crash")
    error = future.exception()
    assert isinstance(error, pprocd.ItemCrashed) and error.signal == "SIGSEGV"
    with pytest.raises(pprocd.ItemCrashed):
        future.result()
    assert executor.submit("chaos", "ok").result() == "ok"  # the stream goes on


def test_an_error_that_comes_back_at_once_names_its_callable(farm):
    # The result can reach the reader thread before submit() returns (a new
    # call each time: its stream starts inside submit).
    for _ in range(100):
        with pprocd.FarmExecutor(farm=farm) as executor:
            error = executor.submit("chaos", "raise").exception(EVENT_LIMIT_S)
        assert isinstance(error, pprocd.ItemFailed)
        assert error.callable == "chaos"


def test_arguments_that_do_not_bind_raise_at_submit(executor):
    with pytest.raises(pprocd.InvalidItem):
        executor.submit("calculate", 1)
    assert executor.submit("calculate", 1, 1).result() == 11


def test_map_yields_in_order(executor):
    assert list(executor.map("calculate", range(5), range(5))) == [0, 11, 22, 33, 44]
    assert list(executor.map("square", [])) == []


def test_many_submits_share_one_stream_and_all_resolve(executor):
    futures = [executor.submit("echo", i) for i in range(20_000)]
    assert [f.result() for f in futures] == list(range(20_000))


def test_map_timeout_is_the_clients_wait(executor):
    results = executor.map("sleep_ms", [0, FOREVER_MS], timeout=0.3)
    assert next(results) == 0
    with pytest.raises(cf.TimeoutError):
        next(results)
    # The failed iterator cancelled what it had not yielded: the fixture
    # checks that the server is idle again.


def test_as_completed_yields_the_first_finished_first(executor, farm):
    slow = executor.submit("sleep_ms", FOREVER_MS)
    quick = executor.submit("echo", "quick")
    first = next(cf.as_completed([slow, quick]))
    assert first is quick and first.result() == "quick"
    assert cancel_within_limit(slow) is True


def test_wait_first_completed(executor):
    slow = executor.submit("sleep_ms", FOREVER_MS)
    quick = executor.submit("square", 9)
    done, not_done = cf.wait([slow, quick], return_when=cf.FIRST_COMPLETED)
    assert quick in done and slow in not_done
    assert cancel_within_limit(slow) is True
    done, not_done = cf.wait([slow, quick], timeout=EVENT_LIMIT_S)
    assert not not_done and slow.cancelled()


def test_cancel_kills_a_running_input(executor, farm):
    future = executor.submit("sleep_ms", FOREVER_MS)
    wait_until(lambda: farm.status().items_running >= 1, "the input to run")
    assert cancel_within_limit(future) is True
    assert future.cancelled() and future.done()
    with pytest.raises(cf.CancelledError):
        future.result()
    wait_until(lambda: no_work(farm), "the killed worker's slot to be free")
    assert executor.submit("echo", "after").result() == "after"


def test_cancel_after_the_result_returns_false(executor):
    future = executor.submit("echo", 1)
    assert future.result() == 1
    assert future.cancel() is False and not future.cancelled()


def test_shutdown_cancel_futures_cancels_what_is_not_done(farm):
    executor = pprocd.FarmExecutor(farm=farm, max_workers=2)
    futures = [executor.submit("sleep_ms", FOREVER_MS) for _ in range(6)]
    done = executor.submit("echo", "done")
    assert done.result() == "done"
    wait_until(lambda: farm.status().items_running >= 2, "two inputs to run")
    finished = threading.Event()
    threading.Thread(target=lambda: (executor.shutdown(wait=True, cancel_futures=True),
                                     finished.set()), daemon=True).start()
    assert finished.wait(EVENT_LIMIT_S), "shutdown(cancel_futures=True) did not return"
    assert all(f.cancelled() for f in futures)
    assert done.result() == "done" and not done.cancelled()
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit("echo", 1)


def test_shutdown_wait_waits_for_every_future(farm):
    executor = pprocd.FarmExecutor(farm=farm)
    futures = [executor.submit("sleep_ms", 20) for _ in range(8)]
    executor.shutdown(wait=True)
    assert all(f.done() and f.result() == 20 for f in futures)


def test_max_workers_is_the_calls_limit(farm):
    with pprocd.FarmExecutor(farm=farm, max_workers=2) as executor:
        futures = [executor.submit("sleep_ms", 40) for _ in range(8)]
        cf.wait(futures)
    assert max_overlap([f.stats for f in futures]) <= 2


def test_executor_made_from_an_address_owns_its_farm(server):
    with pprocd.FarmExecutor(server.address) as executor:
        assert executor.submit("echo", [1, "a"]).result() == [1, "a"]
    assert executor.farm._closed
