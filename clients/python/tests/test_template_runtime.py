"""The Python template and its workers (pprocd._template), started and driven
as the server drives them: a control socket on descriptor 3, spawn and kill
requests, tasks and results on each worker's socket (tests/template_harness
plays the server)."""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys
import textwrap
from typing import Iterator

import pytest

from template_harness import FakeServer, from_value, process_gone, wait_gone

from pprocd import _packed, _wire
from pprocd._values import to_value
from pprocd.v1 import item_pb2
from pprocd.wire.v1 import wire_pb2

FUNCTIONS = textwrap.dedent('''
    """Functions the tests run."""
    import os
    import signal
    import sys
    import time

    print("imported functions")  # stays off the server's stdout

    TABLE = [float(i) for i in range(100000)]
    IMPORTED_BY = os.getpid()
    with open(os.path.join(os.path.dirname(__file__), "imports.log"), "a") as log:
        log.write(f"{IMPORTED_BY}\\n")


    def square(x):
        return x * x


    def add(a, b=10):
        return a + b


    def nothing():
        return "called with nothing"


    def echo(value):
        return value


    def dispositions():
        """What this process does on SIGCHLD, SIGINT and SIGTERM, and
        whether a signal wakeup descriptor is set."""
        handlers = [signal.getsignal(s) for s in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM)]
        wakeup = signal.set_wakeup_fd(-1)
        return [h == signal.SIG_DFL for h in handlers] + [wakeup]


    def fail(text):
        raise ValueError(f"cannot use {text!r}")


    def fail_inside(text):
        return int(text) + None


    def chatty(x):
        print("to stdout", x)
        print("error line", x, file=sys.stderr)
        return x


    def quiet_os_write(x):
        os.write(1, b"written to descriptor 1\\n")
        return x


    def give_set(x):
        return {x} if x % 2 else x


    def __getattr__(name):
        if name == "lookup_raises":
            raise RuntimeError("this module refuses to look it up")
        raise AttributeError(name)


    def exit_with(code):
        sys.exit(code)


    def os_exit(code):
        os._exit(code)


    def segfault(_):
        os.kill(os.getpid(), signal.SIGSEGV)


    def table_facts(_):
        return {"id": id(TABLE), "len": len(TABLE), "imported_by": IMPORTED_BY,
                "pid": os.getpid()}


    def allocate_past_a_limit(mib):
        import resource
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (used + (mib << 20), hard))
        return len(bytearray(2 * mib << 20))


    def wait_forever(_):
        signal.pause()


    def wait_for_file(path):
        """Takes a millisecond for "", else returns once ``path`` exists."""
        if not path:
            time.sleep(0.001)
        while path and not os.path.exists(path):
            time.sleep(0.005)
        return path


    class Solver:
        @staticmethod
        def run(x):
            return x + 1


    def conversation(channel, greeting):
        channel.send(greeting)
        total = 0
        for value in channel:
            total += value
            channel.send({"got": value})
        return total


    def no_input(channel):
        try:
            channel.receive()
        except EOFError:
            return "end at once"
        return "got input"
''')

SCRIPT = textwrap.dedent('''
    import os

    MARKER = os.path.join(os.path.dirname(__file__), "main-ran")


    def triple(x):
        return 3 * x


    def name():
        return __name__


    if __name__ == "__main__":
        open(MARKER, "w").close()
''')


@pytest.fixture
def module_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "functions.py").write_text(FUNCTIONS)
    (tmp_path / "script.py").write_text(SCRIPT)
    (tmp_path / "broken.py").write_text("import no_such_module_here\n")
    return tmp_path


@pytest.fixture
def server(module_dir: pathlib.Path) -> Iterator[FakeServer]:
    with FakeServer("functions", str(module_dir / "functions.py"), [str(module_dir)],
                    stderr=subprocess.PIPE) as started:
        assert started.started() == ""
        yield started


def test_template_starts_quietly_and_imports_once(module_dir: pathlib.Path) -> None:
    fake = FakeServer("functions", str(module_dir / "functions.py"), [str(module_dir)],
                      stderr=subprocess.PIPE)
    try:
        assert fake.started() == ""
        workers = [fake.spawn(), fake.spawn()]
        for worker in workers:
            assert worker.run("square", [3]) == [9]
    finally:
        fake.close()
    # What the module printed while importing went to stderr, not stdout,
    # as one line of the server's log.
    assert fake.process.stdout is None
    assert fake.process.stderr is not None
    log = fake.process.stderr.read().decode()
    assert log.count("\n") == 1, log
    assert ' level=info msg="a Python module printed while imported" module=functions ' in log
    assert log.endswith(' output="imported functions\\n"\n'), log
    assert (module_dir / "imports.log").read_text() == f"{fake.process.pid}\n"


def test_a_spare_imports_the_module_it_is_named_later(module_dir: pathlib.Path) -> None:
    spare = FakeServer("", "", [str(module_dir)], stderr=subprocess.PIPE)
    try:
        # A module written after the spare started (its import caches
        # must not hide it).
        (module_dir / "later.py").write_text("def double(x):\n    return 2 * x\n")
        spare.name_module("later", str(module_dir / "later.py"))
        assert spare.started() == ""
        assert spare.spawn().run("double", [21]) == [42]
    finally:
        spare.close()
    assert spare.process.returncode == 0


def test_a_spare_never_named_ends_quietly(module_dir: pathlib.Path) -> None:
    spare = FakeServer("", "", [str(module_dir)], stderr=subprocess.PIPE)
    spare.close()
    assert spare.process.returncode == 0
    assert spare.process.stderr is not None
    assert spare.process.stderr.read() == b""
    assert not (module_dir / "imports.log").exists(), "no module was imported"


def test_import_error_names_the_module_and_the_exception(module_dir: pathlib.Path) -> None:
    with FakeServer("broken", str(module_dir / "broken.py"), [str(module_dir)]) as fake:
        error = fake.started()
        assert fake.process.wait() == 1
    assert error == (f"cannot import module 'broken' (from {module_dir / 'broken.py'}): "
                     "ModuleNotFoundError: No module named 'no_such_module_here'")


def test_module_from_another_file_is_refused(module_dir: pathlib.Path) -> None:
    elsewhere = module_dir / "elsewhere"
    elsewhere.mkdir()
    with FakeServer("functions", str(elsewhere / "functions.py"), [str(module_dir)]) as fake:
        error = fake.started()
    assert error.startswith("cannot import module 'functions'")
    assert f"resolves to {module_dir / 'functions.py'}, not {elsewhere / 'functions.py'}" in error


def test_script_is_imported_without_running_its_main_block(module_dir: pathlib.Path) -> None:
    with FakeServer("__main__", str(module_dir / "script.py"), [str(module_dir)]) as fake:
        assert fake.started() == ""
        worker = fake.spawn()
        assert worker.run("triple", [1, 2]) == [3, 6]
        assert worker.run("name", [None]) == ["__mp_main__"]
    assert not (module_dir / "main-ran").exists()


def test_packed_task_on_two_workers(server: FakeServer) -> None:
    workers = [server.spawn(), server.spawn()]
    assert workers[0].pid != workers[1].pid
    for worker in workers:
        worker.send_task("square", range(1000))
    for worker in workers:
        outcomes = worker.results(1000)
        assert [outcomes[i] for i in range(1000)] == [i * i for i in range(1000)]


def test_values_round_trip_as_the_client_sends_them(server: FakeServer) -> None:
    worker = server.spawn()
    values = [None, True, 1.5, -3, 2 ** 60, "ünïcode", [1, [2]], {"a": {"b": None}},
              float("nan"), float("inf")]
    echoed = worker.run("echo", values)
    assert echoed[:8] == [None, True, 1.5, -3, float(2 ** 60), "ünïcode", [1, [2]],
                          {"a": {"b": None}}]
    assert echoed[8:] == ["NaN", "Infinity"]


def test_arguments_bind_as_the_service_binds_them(server: FakeServer) -> None:
    worker = server.spawn()
    # One parameter: the value is the argument, a list included.
    assert worker.run("echo", [[1, 2], {"k": 1}, None]) == [[1, 2], {"k": 1}, None]
    # Several: a list spreads, an object names, another value is the first.
    assert worker.run("add", [[1, 2], {"a": 1, "b": 5}, 7]) == [3, 6, 17]
    # None: null calls it with no argument.
    assert worker.run("nothing", [None, []]) == ["called with nothing"] * 2
    assert worker.run("Solver.run", [1]) == [2]
    failed = worker.run("add", [[1, 2, 3], {"c": 1}])
    for result in failed:
        assert result.error.kind == item_pb2.ERROR_KIND_INVALID_ARGUMENT
    assert failed[0].error.message == (
        "add() takes from 1 to 2 positional arguments but 3 were given")
    assert failed[1].error.message == "add() got an unexpected keyword argument 'c'"


def test_unknown_function_fails_each_item(server: FakeServer) -> None:
    worker = server.spawn()
    for result in worker.run("missing", [1, 2]) + worker.run("Solver.nope", [1]):
        assert result.error.kind == item_pb2.ERROR_KIND_INVALID_ARGUMENT
    assert worker.run("missing", [1])[0].error.message == "unknown function functions.missing"


def test_a_worker_named_its_function_at_spawn_runs_it_as_any_worker(server: FakeServer) -> None:
    # The template resolves the function once, before forking (as for FRESH
    # workers); what the worker then does is the same as without the name.
    assert server.spawn("add").run("add", [[1, 2], {"a": 3, "b": 4}]) == [3, 7]
    assert server.spawn("Solver.run").run("Solver.run", [1, 2]) == [2, 3]
    missing = server.spawn("missing").run("missing", [1])[0]
    assert missing.error.message == "unknown function functions.missing"
    # A lookup that raises is the worker's failure, not the template's.
    raising = server.spawn("lookup_raises")
    raising.send_task("lookup_raises", [1])
    assert raising.read_frame() is None
    assert server.exited(raising).exit_code != 0
    assert server.spawn().run("add", [[5, 6]]) == [11]


def test_a_worker_has_the_default_signal_dispositions(server: FakeServer) -> None:
    # The template ignores SIGINT and SIGTERM and wakes on SIGCHLD; each
    # worker (reused or FRESH) starts as a program would, and so do the
    # processes its function starts.
    assert server.spawn().run("dispositions", [None]) == [[True, True, True, -1]]
    assert server.spawn("dispositions").run("dispositions", [None]) == [[True, True, True, -1]]


def test_exception_fails_its_item_with_message_and_traceback(server: FakeServer) -> None:
    worker = server.spawn()
    outcomes = worker.run("fail", ["x"]) + worker.run("fail_inside", ["1"])
    raised = outcomes[0]
    assert raised.error.kind == item_pb2.ERROR_KIND_RAISED
    assert raised.error.message == "ValueError: cannot use 'x'"
    tail = raised.error.stderr_tail.splitlines()
    assert tail[0] == "Traceback (most recent call last):"
    assert "in fail" in raised.error.stderr_tail
    assert "_worker_session" not in raised.error.stderr_tail
    assert tail[-1] == "ValueError: cannot use 'x'"
    assert raised.logs[0].stream == item_pb2.LOG_STREAM_STDERR
    assert raised.logs[0].data.decode().endswith("ValueError: cannot use 'x'\n")
    # A TypeError inside the function is the function's, not the binding's.
    assert outcomes[1].error.kind == item_pb2.ERROR_KIND_RAISED
    assert outcomes[1].error.message.startswith("TypeError: unsupported operand")
    # The worker goes on, with a stderr tail of the next failure only.
    assert worker.run("square", [4]) == [16]


def test_system_exit_fails_the_item_and_the_worker_survives(server: FakeServer) -> None:
    worker = server.spawn()
    outcome = worker.run("exit_with", [5])[0]
    assert outcome.error.kind == item_pb2.ERROR_KIND_RAISED
    assert outcome.error.message == "SystemExit: 5"
    assert worker.run("square", [5]) == [25]


def test_memory_error_under_a_memory_limit_is_the_limits(server: FakeServer) -> None:
    worker = server.spawn()
    assert worker.run("fail", ["x"])[0].error.kind == item_pb2.ERROR_KIND_RAISED
    outcome = worker.run("allocate_past_a_limit", [64])[0]
    assert outcome.error.kind == item_pb2.ERROR_KIND_MEMORY_LIMIT
    assert outcome.error.message == "MemoryError"


def test_failures_sit_between_blocks_in_index_order(server: FakeServer) -> None:
    worker = server.spawn()
    frames: list = []
    worker.send_task("square", [1, 2, "x", 4, 5])
    outcomes = worker.results(5, frames)
    assert [outcomes[i] for i in (0, 1, 3, 4)] == [1, 4, 16, 25]
    assert outcomes[2].error.message.startswith("TypeError:")
    # Each frame's blocks and results, merged by index, are consecutive
    # (how many frames depends on time: results go at least every 2 ms).
    covered = []
    for frame in frames:
        indices = sorted([i for b in frame.blocks for i in range(b.first_index,
                                                                  b.first_index + b.count)]
                         + [r.index for r in frame.results])
        assert indices == list(range(indices[0], indices[0] + len(indices)))
        covered += indices
    assert covered == [0, 1, 2, 3, 4]
    assert [r.index for f in frames for r in f.results] == [2]


def test_result_that_is_not_json_fails_its_item(server: FakeServer) -> None:
    worker = server.spawn()
    outcomes = worker.run("give_set", [0, 1, 2, 3, 4])
    assert outcomes[0::2] == [0, 2, 4]
    for result in outcomes[1::2]:
        assert result.error.kind == item_pb2.ERROR_KIND_RAISED
        assert result.error.message == "result of give_set is not JSON-serializable: set"


def test_output_becomes_the_items_logs(server: FakeServer) -> None:
    worker = server.spawn()
    outcomes = worker.run("chatty", [1, 2])
    for n, result in enumerate(outcomes, 1):
        assert from_value(result.value) == n
        streams = {log.stream: log.data for log in result.logs}
        assert streams == {item_pb2.LOG_STREAM_STDOUT: f"to stdout {n}\n".encode(),
                           item_pb2.LOG_STREAM_STDERR: f"error line {n}\n".encode()}
    # The files are emptied for the next items.
    assert worker.output(worker.stdout_fd) == b""
    assert worker.run("square", [2]) == [4]


def test_output_past_sys_stdout_is_found(server: FakeServer) -> None:
    worker = server.spawn()
    outcome = worker.run("quiet_os_write", [1])[0]
    assert outcome.logs[0].data == b"written to descriptor 1\n"
    # From then on it is looked for after every item.
    outcomes = worker.run("quiet_os_write", [1, 2, 3])
    assert [result.logs[0].data for result in outcomes] == [b"written to descriptor 1\n"] * 3


def test_value_form_gives_one_result_per_item(server: FakeServer) -> None:
    worker = server.spawn()
    outcomes = worker.run("square", [2, 3], packed=False)
    assert [from_value(result.value) for result in outcomes] == [4, 9]
    assert all(result.last and result.stats.worker_pid == worker.pid for result in outcomes)


def test_stats_follow_the_requested_mode(server: FakeServer) -> None:
    worker = server.spawn()
    frames: list = []
    worker.send_task("square", range(3), item_stats=item_pb2.ITEM_STATS_PER_ITEM)
    worker.results(3, frames)
    stats = [s for f in frames for b in f.blocks for s in b.item_stats]
    assert len(stats) == 3 and all(s.worker_pid == worker.pid for s in stats)
    assert all(s.start_unix_us > 0 and s.max_rss_kib > 0 for s in stats)
    assert stats[0].start_unix_us <= stats[1].start_unix_us <= stats[2].start_unix_us

    frames = []
    worker.send_task("square", range(3), item_stats=item_pb2.ITEM_STATS_PER_CHUNK)
    worker.results(3, frames)
    blocks = [b for f in frames for b in f.blocks]
    assert all(b.HasField("stats") and not b.item_stats for b in blocks)
    assert blocks[0].stats.worker_pid == worker.pid and blocks[0].stats.start_unix_us > 0

    frames = []
    worker.send_task("square", [1, "x"], item_stats=item_pb2.ITEM_STATS_NONE)
    worker.results(2, frames)
    assert not any(b.HasField("stats") or b.item_stats for f in frames for b in f.blocks)
    # A failed item keeps its stats whatever the mode.
    assert [r.stats.worker_pid for f in frames for r in f.results] == [worker.pid]


def test_report_each_sends_every_item_at_once(server: FakeServer) -> None:
    worker = server.spawn()
    frames: list = []
    worker.send_task("square", range(4), report_each=True)
    worker.results(4, frames)
    assert [(b.first_index, b.count) for f in frames for b in f.blocks] == [
        (0, 1), (1, 1), (2, 1), (3, 1)]
    assert len(frames) == 4


def test_results_of_a_long_task_arrive_while_it_runs(server: FakeServer, tmp_path: pathlib.Path
                                                     ) -> None:
    # The last item waits for a file made only once earlier results came.
    worker = server.spawn()
    release = tmp_path / "release"
    items = [""] * 50 + [str(release)]
    worker.send_task("wait_for_file", items)
    values: list = []
    while len(values) < len(items):
        frame = worker.read_frame()
        assert frame is not None and not frame.results
        for block in frame.blocks:
            assert block.first_index == len(values)
            values += _packed.loads_values(block.values)
        # Before the file is made, the last item cannot have ended.
        if not release.exists():
            assert 0 < len(values) < len(items)
            release.touch()
    assert values == items


def test_module_state_is_shared_by_forked_workers(server: FakeServer) -> None:
    workers = [server.spawn(), server.spawn()]
    facts = [worker.run("table_facts", [None])[0] for worker in workers]
    assert facts[0]["id"] == facts[1]["id"]  # the same object, at the same address
    assert facts[0]["len"] == 100000
    assert facts[0]["imported_by"] == facts[1]["imported_by"] == server.process.pid
    assert {fact["pid"] for fact in facts} == {worker.pid for worker in workers}


def test_worker_that_exits_is_reported_with_its_status(server: FakeServer) -> None:
    worker = server.spawn()
    worker.send_task("os_exit", [3])
    assert worker.read_frame() is None
    exited = server.exited(worker)
    assert (exited.pid, exited.exit_code, exited.signal) == (worker.pid, 3, 0)


def test_worker_killed_by_a_signal_is_reported_with_it(server: FakeServer) -> None:
    worker = server.spawn()
    worker.send_task("segfault", [None])
    assert worker.read_frame() is None
    exited = server.exited(worker)
    assert (exited.pid, exited.exit_code, exited.signal) == (worker.pid, -1, signal.SIGSEGV)


def test_kill_stops_a_running_item(server: FakeServer) -> None:
    worker = server.spawn()
    other = server.spawn()
    worker.send_task("wait_forever", [None])
    server.kill(worker)
    exited = server.exited(worker)
    assert (exited.pid, exited.signal) == (worker.pid, signal.SIGKILL)
    # Killing a reaped worker does nothing; the others go on.
    server.kill(worker)
    assert other.run("square", [6]) == [36]


def test_worker_ends_when_its_task_socket_closes(server: FakeServer) -> None:
    worker = server.spawn()
    assert worker.run("square", [2]) == [4]
    worker.sock.shutdown(socket.SHUT_WR)
    exited = server.exited(worker)
    assert (exited.exit_code, exited.signal) == (0, 0)


def test_closing_the_control_socket_ends_template_and_workers(module_dir: pathlib.Path) -> None:
    fake = FakeServer("functions", str(module_dir / "functions.py"), [str(module_dir)],
                      stderr=subprocess.PIPE)
    assert fake.started() == ""
    busy = fake.spawn()
    idle = fake.spawn()
    busy.send_task("wait_forever", [None])
    pids = [fake.process.pid, busy.pid, idle.pid]
    fake.close()
    assert fake.process.returncode == 0
    assert wait_gone(pids)
    assert all(process_gone(pid) for pid in pids)


def test_channel_function_exchanges_messages(server: FakeServer) -> None:
    worker = server.spawn()
    task_id = worker.send_task("channel:conversation", ["hello"], channel_open=True)
    first = worker.read_frame()
    assert first is not None
    message = first.results[0]
    assert (message.index, message.seq, message.last) == (0, 0, False)
    assert from_value(message.value) == "hello"
    worker.send_channel_input(task_id, [1, 2])
    worker.send_channel_input(task_id, [3], end=True)
    results = []
    while not results or not results[-1].last:
        frame = worker.read_frame()
        assert frame is not None
        results.extend(frame.results)
    assert [from_value(r.value) for r in results[:-1]] == [{"got": 1}, {"got": 2}, {"got": 3}]
    assert [r.seq for r in results] == [1, 2, 3, 4]
    assert from_value(results[-1].value) == 6
    # Input for an ended channel is ignored; the worker serves the next task.
    worker.send_channel_input(task_id, [4], end=True)
    assert worker.run("square", [3]) == [9]


def test_channel_without_input_sees_the_end_at_once(server: FakeServer) -> None:
    worker = server.spawn()
    outcome = worker.run("channel:no_input", [None], channel_open=False)[0]
    assert from_value(outcome.value) == "end at once"
    assert (outcome.seq, outcome.last) == (0, True)


def test_nothing_leaks_into_a_worker(server: FakeServer) -> None:
    worker = server.spawn()
    facts = worker.run("echo", [None])
    assert facts == [None]
    fds = sorted(int(fd) for fd in os.listdir(f"/proc/{worker.pid}/fd"))
    # stdin, stdout, stderr, the task socket: nothing of the template's.
    assert fds == [0, 1, 2, fds[3]] and len(fds) == 4


# --- The hand-written wire codec against the generated code ----------------


WIRE_VALUES = [None, True, False, 0, -1.5, 2 ** 53, 1e300, "", "ünï", [], [1, [None]], {},
               {"a": {"b": [True, "x"]}, "": 0}]


@pytest.mark.parametrize("value", WIRE_VALUES)
def test_wire_values_are_encoded_and_decoded_as_protobuf_does(value: object) -> None:
    generated = to_value(value)
    assert from_value(generated.FromString(_wire.encode_value(value))) == from_value(generated)
    assert _wire.decode_value(generated.SerializeToString()) == from_value(generated)


def test_wire_refuses_values_protobuf_cannot_hold() -> None:
    for value in ({1}, {1: "key"}, b"bytes", 10 ** 400):
        with pytest.raises((TypeError, OverflowError)):
            _wire.encode_value(value)


def test_wire_template_events_decode_with_the_generated_code() -> None:
    started = wire_pb2.TemplateEvent.FromString(_wire.template_started(""))
    assert started.WhichOneof("event") == "started" and started.started.error == ""
    spawned = wire_pb2.TemplateEvent.FromString(_wire.worker_spawned(2 ** 40, 4321))
    assert (spawned.spawned.worker_id, spawned.spawned.pid) == (2 ** 40, 4321)
    failed = wire_pb2.TemplateEvent.FromString(
        _wire.worker_exited(7, -1, -1, 0, "fork: Resource temporarily unavailable"))
    assert (failed.exited.worker_id, failed.exited.pid, failed.exited.exit_code,
            failed.exited.signal, failed.exited.spawn_error) == (
        7, -1, -1, 0, "fork: Resource temporarily unavailable")


def test_wire_reads_every_field_of_requests_and_tasks() -> None:
    kill = wire_pb2.TemplateRequest(kill=wire_pb2.KillWorker(worker_id=2 ** 63))
    assert _wire.template_request(kill.SerializeToString()) == ("kill", 2 ** 63, "")
    spawn = wire_pb2.TemplateRequest(spawn=wire_pb2.SpawnWorker(worker_id=5, callable="Cls.f"))
    assert _wire.template_request(spawn.SerializeToString()) == ("spawn", 5, "Cls.f")
    task = wire_pb2.TaskFrame(task_id=9, callable="channel:f", packed_inputs=b"[1]",
                              packed_results=True, item_stats=item_pb2.ITEM_STATS_NONE,
                              report_each=True, channel_open=True)
    frame = _wire.TaskFrame(task.SerializeToString())
    assert (frame.task_id, frame.callable, frame.packed_inputs, frame.packed_results,
            frame.item_stats, frame.report_each, frame.channel_open, frame.channel_input) == (
        9, "channel:f", b"[1]", True, item_pb2.ITEM_STATS_NONE, True, True, None)
    task = wire_pb2.TaskFrame(task_id=9)
    task.channel_input.messages.extend([to_value("a"), to_value({"b": 1})])
    task.channel_input.end = True
    assert _wire.TaskFrame(task.SerializeToString()).channel_input == (["a", {"b": 1}], True)


def test_warm_up_runs_its_tasks_and_leaves_the_process_as_it_was(tmp_path: pathlib.Path) -> None:
    """warm_up(), which every template runs before it forks, runs each of its
    tasks through a throwaway session, and leaves descriptors 1 and 2 and
    sys.stdout / sys.stderr as they were: what a file on them already holds
    is neither taken nor truncated, and nothing is added."""
    out = tmp_path / "stdout.txt"
    err = tmp_path / "stderr.txt"
    out.write_text("written before\n")
    err.write_text("written before too\n")
    code = textwrap.dedent("""
        import sys
        from pprocd import _worker_session as session
        streams = sys.stdout, sys.stderr
        ran = session.warm_up()
        assert (sys.stdout, sys.stderr) == streams, "streams replaced"
        print(ran, len(session._WARM_UP_TASKS) * session._WARM_UP_ROUNDS)
    """)
    with open(out, "a") as stdout, open(err, "a") as stderr:
        subprocess.run([sys.executable, "-c", code], stdout=stdout, stderr=stderr, check=True,
                       timeout=60)
    ran, expected = out.read_text().splitlines()[1].split()
    assert int(expected) > 0 and ran == expected
    assert out.read_text().splitlines()[0] == "written before"
    assert err.read_text() == "written before too\n"
