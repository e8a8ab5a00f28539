"""A failed input becomes the matching exception, with what the server knows:
kind, signal, exit code, message, stderr tail. Other inputs are unharmed."""

import pytest

import pprocd


def failure_of(farm, action, **options):
    with pytest.raises(pprocd.ItemError) as caught:
        farm.pmap("chaos", [action], **options)
    return caught.value


def test_raise_becomes_item_failed(farm):
    error = failure_of(farm, "raise")
    assert type(error) is pprocd.ItemFailed and error.kind == "RAISED"
    assert "raised on request" in error.reason
    assert error.callable == "chaos" and error.index == 0


def test_crash_by_signal_becomes_item_crashed_with_signal_and_stderr(farm):
    error = failure_of(farm, "crash")
    assert type(error) is pprocd.ItemCrashed and error.kind == "CRASHED"
    assert error.signal == "SIGSEGV"
    assert "crashing with SIGSEGV" in error.stderr_tail
    assert "SIGSEGV" in str(error) and "crashing with SIGSEGV" in str(error)


def test_abort_and_exit_give_signal_or_exit_code(farm):
    assert failure_of(farm, "abort").signal == "SIGABRT"
    error = failure_of(farm, "exit:3")
    assert type(error) is pprocd.ItemCrashed and error.exit_code == 3 and error.signal == ""
    assert "exiting with status 3" in error.stderr_tail


def test_timeout_becomes_item_timed_out(farm):
    error = failure_of(farm, "sleep:600000", timeout=0.2)
    assert type(error) is pprocd.ItemTimedOut and error.kind == "TIMED_OUT"


def test_arguments_that_do_not_bind_raise_invalid_item_where_added(farm):
    required = "parameter 'j' of calculate is required"
    with pytest.raises(pprocd.InvalidItem, match=required) as caught:
        farm.pmap("calculate", [[1, 2], [1]])
    assert caught.value.kind == "INVALID_ARGUMENT" and caught.value.index == 1
    assert isinstance(caught.value, ValueError)
    results = farm.Map()
    calc = results.manage("calculate")
    calc(1, 2)
    with pytest.raises(pprocd.InvalidItem, match="must be an integer, got string"):
        calc(1, "two")
    with pytest.raises(pprocd.InvalidItem, match="has no parameter 'k'"):
        calc(i=1, j=2, k=3)
    with pytest.raises(pprocd.InvalidItem, match="at most 4 arguments"):
        calc(1, 2, 3, 4, 5)
    calc(3, 4)
    # The inputs that bound ran; the refused ones were never sent.
    assert list(results) == [12, 34]


def test_a_value_the_callable_rejects_fails_only_its_input(farm):
    with pytest.raises(pprocd.ItemFailed, match="n must be <= 90"):
        farm.pmap("fib", [91])


def test_unknown_callable_is_a_farm_error_with_the_grpc_code(farm):
    with pytest.raises(pprocd.FarmError) as caught:
        farm.pmap("no_such_callable", [1])
    assert caught.value.code_name == "NOT_FOUND"
    assert "no_such_callable" in str(caught.value)


def test_a_failure_fails_only_its_own_input_in_a_map(farm):
    results = farm.Map()
    chaos = results.manage("chaos")
    for action in ("ok", "crash", "ok", "raise", "ok"):
        chaos(action)
    assert results[0] == "ok"
    with pytest.raises(pprocd.ItemCrashed):
        results[1]
    values = []
    reader = iter(results)
    for _ in range(5):
        try:
            values.append(next(reader))
        except pprocd.ItemError as error:
            values.append(error.kind)
    assert values == ["ok", "CRASHED", "ok", "RAISED", "ok"]
    with pytest.raises(StopIteration):
        next(reader)


def test_errors_in_a_queue_are_results_too(farm):
    queue = farm.Queue()
    chaos = queue.manage("chaos")
    for action in ("ok", "exit:7", "ok"):
        chaos(action)
    outcomes = sorted((r.index, r.value if r.ok else r.error.exit_code) for r in queue.results())
    assert outcomes == [(0, "ok"), (1, 7), (2, "ok")]


def test_closing_a_collection_cancels_its_running_inputs(farm):
    results = farm.Map()
    results.manage("sleep_ms")(600_000)
    results.close()
    with pytest.raises(pprocd.ItemCancelled) as caught:
        results[0]
    assert caught.value.kind == "CANCELLED"
