"""Channel callables in Map and Queue: every value sent is a result;
continuous=True leaves out the null return of a callable that returns
nothing."""

import pprocd

N = 5


def test_continuous_queue_yields_every_value_of_every_row(channels):
    queue = channels.Queue(limit=2, continuous=True)
    results = [0] * N * N
    calc = queue.manage("calculate_row")
    for i in range(N):
        calc(i, N)
    for i, j, result in queue:
        results[i * N + j] = result
    assert results == list(range(N * N))


def test_continuous_map_gives_each_inputs_values_in_input_order(channels):
    results = channels.Map(continuous=True)
    rows = results.manage("rows")
    for count in (3, 0, 2, 4):
        rows(count)
    assert list(results) == [0, 1, 2, 0, 1, 0, 1, 2, 3]
    assert results[3:5] == [0, 1]


def test_results_carry_seq_and_mark_the_last(channels):
    queue = channels.Queue()  # not continuous: the null return is a result too
    queue.start("rows", 3)
    got = sorted(((r.seq, r.last, r.value) for r in queue.results()))
    assert got == [(0, False, 0), (1, False, 1), (2, False, 2), (3, True, None)]


def test_continuous_keeps_errors_and_non_null_returns(channels):
    queue = channels.Queue(continuous=True)
    queue.start("rows", 2)
    queue.start("square", 4)          # a function: its value is its result
    queue.start("chaos", "raise")     # an error always counts
    values, errors = [], []
    for result in queue.results():
        (values if result.ok else errors).append(result.value if result.ok else result.error)
    assert sorted(values) == [0, 1, 16]
    assert [type(e) for e in errors] == [pprocd.ItemFailed]


def test_executor_future_of_a_channel_callable(channels):
    with channels.executor() as executor:
        future = executor.submit("rows", 4)
        assert future.result() is None
        assert future.messages == [0, 1, 2, 3]
