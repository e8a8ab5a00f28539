"""Background jobs against a real server: submit_job and the Job handle,
watch and its resumption, BackgroundCallable, BackgroundQueue and
PersistentQueue, cancel, idempotency, failures, and clients in processes of
their own."""

import concurrent.futures
import os
import pathlib
import subprocess
import sys
import textwrap
import threading
import uuid

import pytest

import pprocd

from conftest import wait_until

SRC = str(pathlib.Path(__file__).resolve().parent.parent / "src")
PROCESS_LIMIT_S = 120


def unique(prefix):
    """A job name no other test (or earlier run on this server) has used."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run_python(code, *args):
    """Runs ``code`` in a new interpreter that imports this checkout's
    client; returns its stdout, failing the test on a non-zero exit."""
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("PPROCD_ADDRESS", None)
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], env=env,
                         capture_output=True, text=True, timeout=PROCESS_LIMIT_S,
                         stdin=subprocess.DEVNULL)
    assert run.returncode == 0, f"exit status {run.returncode}; stderr:\n{run.stderr}"
    return run.stdout


def values_of(events):
    return [e.value for e in events if isinstance(e, pprocd.JobResult)]


def test_submit_job_returns_a_handle_and_result_gives_the_values_in_input_order(farm):
    name = unique("squares")
    job = farm.submit_job("square", range(10), name=name)
    assert len(job.id) == 16 and int(job.id, 16) >= 0
    assert job.name == name
    assert job.status.callable == "square"
    assert job.status.items_total == 10
    assert job.state in (pprocd.JobState.QUEUED, pprocd.JobState.RUNNING)
    assert job.result() == [x * x for x in range(10)]
    assert job.state == "SUCCEEDED" and job.state is pprocd.JobState.SUCCEEDED
    assert job.done()
    by_name = farm.job(name)
    assert by_name.id == job.id
    assert by_name.status.items_done == 10 and by_name.status.ended
    assert by_name.status.end_time is not None
    assert farm.job(job.id).name == name
    # Arguments as pmap takes them: tuples spread, dicts name.
    calc = farm.submit_job("calculate", [(1, 2), {"i": 3, "j": 4, "n": 100}], ordered=True)
    assert calc.result() == [12, 304]


def test_result_is_in_input_order_whatever_order_the_results_came_in(farm):
    job = farm.submit_job("sleep_ms", [120, 60, 0, 90, 30], ordered=False, limit=5)
    assert job.result() == [120, 60, 0, 90, 30]


def test_a_client_that_exits_right_after_submit_and_another_that_collects(server, farm):
    name = unique("fire-and-forget")
    submitted = run_python("""
        import sys
        import pprocd
        job = pprocd.Farm(sys.argv[1]).submit_job("sleep_ms", [40] * 6, name=sys.argv[2])
        print(job.id)
    """, server.address, name).strip()
    collected = run_python("""
        import sys
        import pprocd
        queue = pprocd.BackgroundQueue(sys.argv[2], farm=sys.argv[1])
        print(sorted(queue))
        print(pprocd.Farm(sys.argv[1]).job(sys.argv[2]).id)
    """, server.address, name).splitlines()
    assert collected == [str([40] * 6), submitted]
    assert farm.job(name).state == pprocd.JobState.SUCCEEDED


def test_two_watchers_see_identical_streams(farm):
    job = farm.submit_job("sleep_ms", [20] * 20, limit=2)
    streams = [[], []]

    def watch(into):
        into.extend(job.watch())

    threads = [threading.Thread(target=watch, args=(s,)) for s in streams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = streams
    assert first == second
    assert [e.seq for e in first] == list(range(1, len(first) + 1))
    assert values_of(first) == [20] * 20
    last = first[-1]
    assert isinstance(last, pprocd.JobUpdate)
    assert last.state == pprocd.JobState.SUCCEEDED and not last.progress
    assert last.status.last_seq == last.seq
    assert all(e.job_id == job.id for e in first)


def test_watch_after_seq_resumes_with_no_gap_or_repeat(farm):
    job = farm.submit_job("sleep_ms", [20] * 20, limit=1)
    watcher = job.watch()
    head = [next(watcher) for _ in range(5)]
    watcher.close()  # a watcher that went away mid-stream
    rest = list(job.watch(after_seq=head[-1].seq))
    combined = head + rest
    assert [e.seq for e in combined] == list(range(1, len(combined) + 1))
    assert combined == list(job.watch())
    assert sorted(r.index for r in combined if isinstance(r, pprocd.JobResult)) == list(range(20))
    assert list(job.watch(after_seq=combined[-1].seq)) == []


def test_persistent_queue_reads_three_jobs_as_their_results_arrive(farm):
    names = [unique(f"row-{i}") for i in range(3)]
    jobs = []
    for i, name in enumerate(names):
        jobs.append(pprocd.BackgroundCallable(name, "calculate_row", farm=farm)(i, 5))
    queue = pprocd.PersistentQueue(farm=farm)
    queue.connect(names[0])
    queue.connect(jobs[1].id)  # by id works as well as by name
    queue.connect(names[2])
    cells = list(queue)
    assert sorted(cells) == [[i, j, i * 5 + j] for i in range(3) for j in range(5)]
    for i in range(3):  # each row's cells in the order its callable sent them
        assert [c for c in cells if c[0] == i] == [[i, j, i * 5 + j] for j in range(5)]
    assert list(queue) == []

    again = pprocd.PersistentQueue(farm=farm)
    for name in names:
        again.connect(name)
    events = list(again.results())
    assert {e.job_id for e in events} == {job.id for job in jobs}
    assert len(events) == 15 and all(e.error is None for e in events)


def test_background_callable_with_a_socket_address_is_found_again(farm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    address = unique("task") + ".socket"
    task = pprocd.BackgroundCallable(address, "calculate_tagged", farm=farm, limit=4)
    assert task.socket
    job = task.map((i, j, 3) for i in range(3) for j in range(3))
    assert task.job is job and job.name == address
    # The server serves the job on a socket of its own at the absolute path.
    assert job.status.socket_path == str(tmp_path / address)
    assert (tmp_path / address).is_socket()
    expected = [[i, j, i * 3 + j] for i in range(3) for j in range(3)]
    assert sorted(pprocd.BackgroundQueue(address, farm=farm)) == expected
    # Through that socket alone: the farm named here serves nothing.
    nowhere = "unix:" + str(tmp_path / "no-server.sock")
    assert sorted(pprocd.BackgroundQueue(address, farm=nowhere)) == expected
    # From another directory the path is another file: found by name instead.
    monkeypatch.chdir(tmp_path.parent)
    assert sorted(pprocd.BackgroundQueue(address, farm=farm)) == expected
    monkeypatch.chdir(tmp_path)
    with pytest.raises(pprocd.JobExists, match=address):
        task(0, 0)
    replacing = pprocd.BackgroundCallable(address, "calculate", farm=farm, replace=True)
    assert replacing(2, 5).result() == [25]
    assert farm.job(address).id != job.id
    farm.job(address).delete()
    assert not (tmp_path / address).exists(), "the socket goes with its job"
    plain = pprocd.BackgroundCallable(unique("reports/nightly"), "square", farm=farm,
                                      socket=False)
    assert not plain.socket
    assert plain(7).status.socket_path == ""
    assert list(pprocd.BackgroundQueue(plain.address, farm=farm)) == [49]


def test_cancel_kills_a_running_job_and_delete_removes_it(farm):
    job = farm.submit_job("sleep_ms", [60_000, 60_000], chunksize=1)
    wait_until(lambda: farm.status().items_running == 2, "the job's items to run")
    with pytest.raises(pprocd.FarmError) as refused:
        job.delete()
    assert refused.value.code_name == "FAILED_PRECONDITION"
    assert job.cancel() is True
    assert job.state == pprocd.JobState.CANCELLED
    with pytest.raises(pprocd.JobCancelled) as cancelled:
        job.result()
    assert isinstance(cancelled.value, concurrent.futures.CancelledError)
    assert cancelled.value.job_id == job.id
    with pytest.raises(pprocd.JobCancelled):
        list(pprocd.BackgroundQueue(job.id, farm=farm))
    assert job.cancel() is True  # already cancelled: unchanged
    job.delete()
    with pytest.raises(pprocd.JobNotFound) as gone:
        farm.job(job.id)
    assert gone.value.code_name == "NOT_FOUND"
    assert isinstance(gone.value, LookupError)


def test_an_idempotency_key_returns_the_same_job_and_a_name_is_unique(farm):
    key = unique("order")
    first = farm.submit_job("square", [3], idempotency_key=key)
    second = farm.submit_job("square", [3], idempotency_key=key)
    assert first.id == second.id
    assert values_of(first.watch()) == [9]  # it ran once
    name = unique("nightly")
    farm.submit_job("square", [2], name=name).result()
    with pytest.raises(pprocd.JobExists) as taken:
        farm.submit_job("square", [2], name=name)
    assert taken.value.code_name == "ALREADY_EXISTS" and name in str(taken.value)


def test_a_failed_item_fails_the_job_with_the_item_error(farm):
    job = farm.submit_job("chaos", ["ok", "raise"], ordered=True)
    with pytest.raises(pprocd.JobFailed) as failed:
        job.result()
    error = failed.value
    assert error.state == "FAILED" and job.state == pprocd.JobState.FAILED
    assert error.reason == "1 of 2 items failed"
    assert len(error.errors) == 1
    assert isinstance(error.errors[0], pprocd.ItemFailed)
    assert error.errors[0].index == 1 and error.errors[0].callable == "chaos"
    assert error.__cause__ is error.errors[0]
    assert isinstance(error, pprocd.JobError) and isinstance(error, pprocd.PprocdError)
    assert job.exception() is not None and isinstance(job.exception(), pprocd.JobFailed)
    # A queue raises the item's error where it is read, and goes on.
    queue = pprocd.BackgroundQueue(job.id, farm=farm)
    assert next(queue) == "ok"
    with pytest.raises(pprocd.ItemFailed):
        next(queue)
    assert list(queue) == []


def test_only_the_last_attempt_counts_when_a_job_is_retried(farm):
    job = farm.submit_job("chaos", ["ok", "raise"], retries=1, retry_backoff=0.01,
                          ordered=True)
    with pytest.raises(pprocd.JobFailed) as failed:
        job.result()
    assert failed.value.job.attempts == 2
    assert len(failed.value.errors) == 1, "the first attempt's error is not counted again"
    assert values_of(job.watch()).count("ok") == 2  # both attempts are stored
    queue = pprocd.BackgroundQueue(job.id, farm=farm)
    assert next(queue) == "ok"
    with pytest.raises(pprocd.ItemFailed):
        next(queue)
    assert list(queue) == [], "neither the repeated result nor the retried error again"


def test_jobs_lists_by_state_and_name_across_pages(farm):
    names = [unique("listed") for _ in range(3)]
    ids = {farm.submit_job("square", [i], name=name).id for i, name in enumerate(names)}
    for name in names:
        farm.job(name).result()
    succeeded = {job.id for job in farm.jobs(state="SUCCEEDED", page_size=1)}
    assert ids <= succeeded
    assert not ids & {job.id for job in farm.jobs(state=pprocd.JobState.FAILED)}
    [only] = list(farm.jobs(name=names[1]))
    assert only.name == names[1] and only.state == pprocd.JobState.SUCCEEDED


def test_job_errors_are_typed(farm):
    with pytest.raises(pprocd.JobNotFound, match="no-such-job"):
        farm.job("no-such-job")
    with pytest.raises(pprocd.JobNotFound):
        list(pprocd.BackgroundQueue("no-such-job", farm=farm))
    with pytest.raises(pprocd.FarmError) as unknown:
        farm.submit_job("no_such_callable", [1])
    assert unknown.value.code_name == "NOT_FOUND"
    assert not isinstance(unknown.value, pprocd.JobNotFound), "a callable, not a job"
    with pytest.raises(pprocd.InvalidItem):
        farm.submit_job("square", [1, "x"])
    with pytest.raises(ValueError, match="at least one input"):
        farm.submit_job("square", [])
    with pytest.raises(concurrent.futures.TimeoutError):
        job = farm.submit_job("sleep_ms", [60_000])
        try:
            job.result(timeout=0.2)
        finally:
            job.cancel()
