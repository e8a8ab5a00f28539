"""One scenario through the client's public API in the packed form (the
default) and in the Value form (``Farm(packed=False)``): the user sees the
same values, of the same types, and the same errors (kinds, messages,
indices) either way."""

from __future__ import annotations

import concurrent.futures
import re
from typing import Any, Dict, List, Tuple

import pytest

from conftest import EVENT_LIMIT_S, ServerProcess, wait_until, idle

import pprocd

# Echoed as they are in both forms (ints within 2**53 stay ints, other
# numbers floats).
VALUES: List[Any] = [
    0, 1, -7, 2 ** 40, 2 ** 53, 1.5, -0.25, 1e300, 1e-9, "", "héllo wörld ✓ 😀 中文",
    'quote " backslash \\ newline \n tab \t', None, True, False, [], {}, [1, [2, [3, ["x"]]]],
    {"a": {"b": [1, 2.5, None, False]}, "ü": "", "n": None},
]


def typed(value: Any) -> Any:
    """``value`` with each leaf tagged by its type: 1, 1.0 and True differ."""
    if isinstance(value, list):
        return ["list", [typed(item) for item in value]]
    if isinstance(value, dict):
        return ["dict", sorted((key, typed(item)) for key, item in value.items())]
    return [type(value).__name__, value]


def error_facts(error: BaseException) -> Tuple[Any, ...]:
    """What a user reads of an error. Process ids are masked: they differ
    from run to run, not from form to form."""
    if isinstance(error, pprocd.ItemError):
        return (type(error).__name__, error.kind, _no_pids(error.reason), error.signal,
                error.exit_code, error.index, error.callable)
    if isinstance(error, pprocd.FarmError):
        return (type(error).__name__, error.code_name, _no_pids(error.details))
    return (type(error).__name__, str(error))


def _no_pids(text: str) -> str:
    return re.sub(r"\d{2,}", "N", text)


def result_facts(result: pprocd.Result) -> Tuple[Any, ...]:
    if result.error is not None:
        return ("error", result.index, result.seq, result.last, error_facts(result.error))
    return ("value", result.index, result.seq, result.last, typed(result.value))


def scenario(farm: pprocd.Farm) -> Dict[str, Any]:
    """Runs the scenario on ``farm``; returns what the user saw."""
    seen: Dict[str, Any] = {}
    seen["pmap"] = typed(farm.pmap("echo", VALUES))
    seen["pmap_squares"] = typed(farm.pmap("square", range(100)))

    with farm.Map() as results:
        echo = results.manage("echo")
        for value in VALUES:
            echo(value)
        seen["map"] = [result_facts(r) for r in results.results()]
        seen["map_values"] = typed(list(results))

    with farm.Map(timeout=1.0) as results:
        chaos = results.manage("chaos")
        chaos("ok")
        chaos("raise")
        chaos("crash")
        results.start("sleep_ms", 30_000)  # past the timeout
        results.start("echo", "after the failures")
        seen["failures"] = [result_facts(r) for r in results.results()]

    try:
        farm.pmap("chaos", ["ok", "ok", "raise", "ok"])
        seen["pmap_error"] = None
    except pprocd.ItemError as error:
        seen["pmap_error"] = error_facts(error)

    # A bad input, refused by the client before it is sent...
    with farm.Map() as results:
        results.start("square", 2)
        try:
            results.start("square", "two")
            seen["bad_input"] = None
        except pprocd.InvalidItem as error:
            seen["bad_input"] = error_facts(error)
        seen["bad_input_rest"] = typed(list(results))
    try:
        farm.pmap("calculate", [[1, 2], {"i": 1, "j": 2}, {"i": 1, "j": "x"}])
        seen["bad_pmap_input"] = None
    except pprocd.InvalidItem as error:
        seen["bad_pmap_input"] = error_facts(error)

    # ... and by the server, when the client does not check.
    unchecked = pprocd.Farm(farm.address, packed=farm.packed)
    unchecked.check = lambda *args, **kwargs: None  # type: ignore[method-assign]
    unchecked.check_objs = lambda *args, **kwargs: None  # type: ignore[method-assign]
    try:
        unchecked.pmap("square", [1, 2, "three", 4])
        seen["server_bad_input"] = None
    except pprocd.FarmError as error:
        seen["server_bad_input"] = error_facts(error)
    finally:
        unchecked.close()

    with farm.Queue(limit=1) as queue:  # one at a time: completion order is input order
        sleep = queue.manage("sleep_ms")
        for ms in (30, 1, 20, 2):
            sleep(ms)
        seen["queue"] = [result_facts(r) for r in queue.results()]

    with farm.Queue(continuous=True) as queue:
        queue.start("rows", 3)
        queue.start("rows", 2)
        seen["continuous"] = sorted(result_facts(r) for r in queue.results())

    with farm.start("countdown") as channel:
        channel.send(3)
        seen["channel"] = [channel.receive(EVENT_LIMIT_S)]
        channel.send(1)
        seen["channel"].append(channel.receive(EVENT_LIMIT_S))
        seen["channel_result"] = typed(channel.result(EVENT_LIMIT_S))
    channel = farm.start("accumulate")
    for number in (1, 2.5, 3):
        channel.send(number)
    channel.close()
    seen["accumulate"] = typed(channel.result(EVENT_LIMIT_S))

    with farm.executor() as executor:
        futures = [executor.submit("echo", value) for value in VALUES]
        futures.append(executor.submit("chaos", "raise"))
        done, _ = concurrent.futures.wait(futures, EVENT_LIMIT_S)
        assert len(done) == len(futures)
        seen["executor"] = [typed(f.result()) for f in futures[:-1]]
        seen["executor_error"] = error_facts(futures[-1].exception())

    job = farm.submit_job("echo", VALUES[:8], ordered=True)
    seen["job"] = typed(job.result(EVENT_LIMIT_S))
    failing = farm.submit_job("chaos", ["ok", "raise"])
    error = failing.exception(EVENT_LIMIT_S)
    seen["job_error"] = (error.state, [error_facts(e) for e in error.errors])
    job.delete()
    failing.delete()
    return seen


@pytest.fixture
def forms(server: ServerProcess) -> Any:
    """A packed and a Value-form farm on the shared server; it is idle
    again after the test."""
    packed = pprocd.Farm(server.address, packed=True)
    value_form = pprocd.Farm(server.address, packed=False)
    try:
        assert packed.packed and not value_form.packed
        yield packed, value_form
    finally:
        wait_until(lambda: idle(value_form), "the server to be idle after the test")
        packed.close()
        value_form.close()


def test_both_forms_give_the_same_values_and_errors(forms: Any) -> None:
    packed_farm, value_farm = forms
    value_seen = scenario(value_farm)
    packed_seen = scenario(packed_farm)
    for key in value_seen:
        assert packed_seen[key] == value_seen[key], key

    # And what both saw is what a user expects.
    assert value_seen["pmap"] == typed(VALUES)
    assert value_seen["map_values"] == typed(VALUES)
    assert value_seen["executor"] == [typed(value) for value in VALUES]
    assert value_seen["job"] == typed(VALUES[:8])
    assert value_seen["pmap_squares"] == typed([i * i for i in range(100)])
    kinds = [facts[4][1] if facts[0] == "error" else None for facts in value_seen["failures"]]
    assert kinds == [None, "RAISED", "CRASHED", "TIMED_OUT", None]
    assert value_seen["failures"][2][4][3] == "SIGSEGV"
    assert value_seen["pmap_error"][:2] == ("ItemFailed", "RAISED")
    assert value_seen["pmap_error"][5] == 2
    assert value_seen["bad_input"][0] == "InvalidItem" and value_seen["bad_input"][5] == 1
    assert "parameter 'x'" in value_seen["bad_input"][2]
    assert value_seen["bad_pmap_input"][5] == 2 and "'j'" in value_seen["bad_pmap_input"][2]
    code, details = value_seen["server_bad_input"][1:]
    assert code == "INVALID_ARGUMENT" and "2" in details and "'x'" in details
    assert [facts[4] for facts in value_seen["queue"]] == [typed(ms) for ms in (30, 1, 20, 2)]
    assert [facts[4] for facts in value_seen["continuous"]] == [
        typed(v) for v in (0, 1, 2, 0, 1)]
    assert value_seen["channel"] == [2, 0]
    assert value_seen["accumulate"] == typed(6.5)
    assert value_seen["executor_error"][:2] == ("ItemFailed", "RAISED")
    assert value_seen["job_error"][0] == "FAILED"
    assert [facts[1] for facts in value_seen["job_error"][1]] == ["RAISED"]


def test_item_stats_choices(server: ServerProcess) -> None:
    with pprocd.Farm(server.address, packed=True) as farm:
        for mode, has_stats in (("per_item", True), ("per_chunk", True), ("none", False),
                                (None, True)):
            with farm.Map(item_stats=mode) as results:
                for value in range(20):
                    results.start("echo", value)
                got = list(results.results())
            assert [r.value for r in got] == list(range(20)), mode
            assert all((r.stats is not None) == has_stats for r in got), mode
            if has_stats:
                assert all(r.stats.worker_pid > 0 for r in got), mode
        with pytest.raises(ValueError):
            farm.Map(item_stats="sometimes")


def test_nan_and_infinities_give_the_same_in_both_forms(forms: Any) -> None:
    packed_farm, value_farm = forms
    values = [float("nan"), float("inf"), [float("-inf")], "NaN"]
    got = [repr(farm.pmap("echo", values)) for farm in (packed_farm, value_farm)]
    assert got[0] == got[1]
