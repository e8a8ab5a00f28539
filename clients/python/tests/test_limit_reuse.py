"""limit and reuse, checked from what the server reports about each run
(start times, durations and worker pids), never from the client's clock."""

from conftest import WORKERS, max_overlap


def run_stats(results):
    return [r.stats for r in results.results()]


def test_limit_caps_how_many_inputs_run_at_once(farm):
    for limit in (1, 2):
        results = farm.Map(limit=limit)
        sleep = results.manage("sleep_ms")
        for _ in range(3 * WORKERS):
            sleep(40)
        assert max_overlap(run_stats(results)) <= limit


def test_queue_limit_caps_too(farm):
    queue = farm.Queue(limit=1)
    sleep = queue.manage("sleep_ms")
    for _ in range(WORKERS + 2):
        sleep(30)
    assert max_overlap([r.stats for r in queue.results()]) == 1


def test_reuse_runs_inputs_in_pooled_workers(farm):
    results = farm.Map(reuse=True)
    count = results.manage("call_count")
    for _ in range(3 * WORKERS):
        count()
    runs = list(results.results())
    pids = {r.stats.worker_pid for r in runs}
    # 12 inputs on a pool of 4: workers were reused, and they counted it.
    assert len(pids) <= WORKERS
    assert max(r.value for r in runs) >= 2


def test_no_reuse_gives_every_input_a_new_process(farm):
    results = farm.Map(reuse=False, limit=2)
    count = results.manage("call_count")
    for _ in range(6):
        count()
    runs = list(results.results())
    assert [r.value for r in runs] == [1] * 6
    assert len({r.stats.worker_pid for r in runs}) == 6


def test_pmap_reuse_false_and_the_executor_follow_the_same_rule(farm):
    assert farm.pmap("call_count", [None] * 4, reuse=False) == [1, 1, 1, 1]
    with farm.executor(reuse=False) as executor:
        futures = [executor.submit("call_count") for _ in range(4)]
        assert [f.result() for f in futures] == [1, 1, 1, 1]
        assert len({f.stats.worker_pid for f in futures}) == 4
