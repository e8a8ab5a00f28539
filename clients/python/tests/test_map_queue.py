"""pmap, Map and Queue against a real server: order, slicing, arguments,
incremental results."""

import pytest

import pprocd

N = 6


def test_pmap_returns_results_in_input_order(farm):
    sequence = [(i, j) for i in range(N) for j in range(N)]
    results = farm.pmap("calculate", sequence, limit=3)
    assert results == [i * 10 + j for i, j in sequence]


def test_pmap_streams_a_generator_and_spreads_dicts(farm):
    assert farm.pmap("square", (x for x in range(2000)))[-3:] == [1997 ** 2, 1998 ** 2, 1999 ** 2]
    assert farm.pmap("calculate", [{"i": 2, "j": 3, "n": 100}]) == [203]
    assert farm.pmap("echo", []) == []


def test_values_round_trip_as_json_shapes(farm):
    value = {"s": "text", "n": 1.5, "i": 7, "b": True, "none": None, "list": [1, "two", [3]],
             "nested": {"k": [False]}}
    assert farm.pmap("echo", [value, "x", 2 ** 40, -3.25, None]) == [value, "x", 2 ** 40,
                                                                       -3.25, None]
    with pytest.raises(TypeError, match="JSON-shaped"):
        farm.pmap("echo", [object()])


def test_map_orders_managed_calls_and_slices(farm):
    results = farm.Map(limit=3)
    calc = results.manage("calculate")
    for i in range(N):
        for j in range(N):
            # the later inputs of each row finish first: order must not care
            calc(i, j, 10, (N - j) * 3)
    for i in range(N):
        assert results[i * N:i * N + N] == [i * 10 + j for j in range(N)]
    assert len(results) == N * N
    assert results[-1] == (N - 1) * 10 + N - 1
    assert list(results) == [i * 10 + j for i in range(N) for j in range(N)]
    assert results[N * N:] == []
    with pytest.raises(IndexError):
        results[N * N]


def test_manage_binds_keywords_and_mixed_arguments(farm):
    results = farm.Map()
    calc = results.manage("calculate")
    calc(1, 2)                        # list: i, j
    calc(1, 2, n=100)                 # positional named from the parameters, plus n
    calc(i=3, j=4, n=1000)            # struct
    calc(j=5, i=6)                    # order of keywords does not matter
    results.start("calculate", 7, 8, 1)
    assert list(results) == [12, 102, 3004, 65, 15]
    with pytest.raises(TypeError, match="multiple values"):
        calc(1, 2, i=3)


def test_map_with_several_callables_keeps_the_order_of_calls(farm):
    results = farm.Map()
    square = results.manage("square")
    echo = results.manage("echo")
    for x in range(20):
        (square if x % 2 else echo)(x)
    assert list(results) == [x * x if x % 2 else x for x in range(20)]


def test_map_yields_early_results_while_later_ones_run(farm):
    results = farm.Map()
    results.manage("echo")("first")
    results.manage("sleep_ms")(600_000)
    # The first result is there although the second input runs for minutes.
    assert next(iter(results)) == "first"
    assert results[0] == "first"
    results.close()  # cancels the sleeper: the fixture checks the server is idle


def test_map_results_carry_stats_and_indices(farm):
    results = farm.Map()
    square = results.manage("square")
    for x in range(5):
        square(x)
    items = list(results.results())
    assert [r.index for r in items] == [0, 1, 2, 3, 4]
    assert [r.value for r in items] == [0, 1, 4, 9, 16]
    assert all(r.ok and r.last and r.stats is not None and r.stats.worker_pid > 0 for r in items)


def test_map_accepts_inputs_after_it_was_read(farm):
    results = farm.Map()
    echo = results.manage("echo")
    echo(1)
    assert list(results) == [1]
    echo(2)  # a new call opens for later inputs
    assert list(results) == [1, 2]


def test_queue_yields_every_result_with_its_position(farm):
    queue = farm.Queue(limit=4)
    results = [0] * N * N
    calc = queue.manage("calculate_tagged")
    try:
        for i in range(N):
            for j in range(N):
                calc(i, j, N)
    except pprocd.FarmError as error:
        pytest.skip(f"needs calculate_tagged: {error}")
    try:
        for i, j, result in queue:
            results[i * N + j] = result
    except pprocd.FarmError as error:
        if error.code_name == "NOT_FOUND":
            pytest.skip(f"needs server support for calculate_tagged ({error.details})")
        raise
    assert results == list(range(N * N))


def test_queue_gives_results_in_completion_order(farm):
    queue = farm.Queue()
    sleep = queue.manage("sleep_ms")
    sleep(600_000)
    queue.manage("echo")("quick")
    taken = queue.results()
    first = next(taken)
    # The quick input completes while the first one sleeps for minutes.
    assert (first.index, first.value) == (1, "quick")
    queue.close()
    last = next(taken)
    assert last.index == 0 and isinstance(last.error, pprocd.ItemCancelled)
    with pytest.raises(StopIteration):
        next(taken)


def test_queue_iteration_ends_when_every_input_is_done(farm):
    queue = farm.Queue()
    square = queue.manage("square")
    for x in range(50):
        square(x)
    assert sorted(queue) == [x * x for x in range(50)]
    assert list(queue) == []  # each result is taken once


def test_module_level_functions_use_the_default_farm(server, monkeypatch):
    monkeypatch.setenv(pprocd.ADDRESS_ENV, server.address)
    monkeypatch.setattr(pprocd._farm, "_default_farm", None)
    assert pprocd.pmap("square", [1, 2, 3], limit=2) == [1, 4, 9]
    results = pprocd.Map(limit=2)
    results.manage("square")(4)
    assert results[:] == [16]
    pprocd.default_farm().close()


def test_a_map_nobody_holds_ends_its_call(farm):
    results = farm.Map()
    echo = results.manage("echo")
    for x in range(3):
        echo(x)
    assert results[0] == 0  # read a part only, never to the end
    del results, echo
    # The fixture checks that no call is left open on the server.
