"""Command callables end to end: a real pprocd serving examples/callables
(pprocd --config examples/callables/pprocd.toml) and a config of faulty
Python functions made with ``python -m pprocd.worker --describe``, called
through this client."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
from typing import Dict, Iterator, List

import pytest

import pprocd
from conftest import EVENT_LIMIT_S, ServerProcess, idle, pprocd_binary, wait_until

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"
EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples" / "callables"
CONFIG = EXAMPLES / "pprocd.toml"
N = 10


def server_env() -> Dict[str, str]:
    """The server's environment: the config's "python3" is this interpreter
    (it has the client's dependencies), and this checkout's package is the
    one its runtimes import."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def sequential_grid() -> List[int]:
    """The grid of examples/callables/calculate.py's calculate, run here."""
    spec = importlib.util.spec_from_file_location("example_calculate", EXAMPLES / "calculate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [module.calculate(i, j) for i in range(N) for j in range(N)]


@pytest.fixture(scope="module")
def examples_server() -> Iterator[ServerProcess]:
    server = ServerProcess(pprocd_binary(), workers=2, extra_args=["--config", str(CONFIG)],
                           env=server_env())
    yield server
    server.stop()


@pytest.fixture
def examples(examples_server: ServerProcess) -> Iterator[pprocd.Farm]:
    assert examples_server.process.poll() is None, examples_server.stderr()
    with pprocd.Farm(examples_server.address) as farm:
        yield farm
        wait_until(lambda: idle(farm), "the server to be idle after the test")


def test_the_example_config_is_valid() -> None:
    checked = subprocess.run([pprocd_binary(), "--check-config", str(CONFIG)],
                             capture_output=True, text=True, timeout=EVENT_LIMIT_S)
    assert checked.returncode == 0, checked.stderr
    for name in ("py_calculate", "word_lengths", "node_calculate", "stats", "word_count",
                 "shout"):
        assert name in checked.stdout


def test_the_examples_are_listed_with_their_parameters(examples: pprocd.Farm) -> None:
    listed = {c.name: c for c in examples.callables()}
    assert [p.name for p in listed["py_calculate"].parameters] == ["i", "j", "n", "delay"]
    assert listed["py_calculate"].description.startswith("Returns i * n + j")
    assert [p.name for p in listed["node_calculate"].parameters] == ["i", "j", "n", "delay"]


def test_python_calculate_grid_equals_the_sequential_one(examples: pprocd.Farm) -> None:
    pairs = [(i, j) for i in range(N) for j in range(N)]
    assert examples.pmap("py_calculate", pairs) == sequential_grid()


def test_python_calculate_through_a_managed_map(examples: pprocd.Farm) -> None:
    results = examples.Map(limit=2)
    calculate = results.manage("py_calculate")
    for i in range(N):
        for j in range(N):
            calculate(i, j, delay=0.001)
    assert [results[i * N:i * N + N] for i in range(N)] == [
        sequential_grid()[i * N:i * N + N] for i in range(N)]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node (node on PATH)")
def test_node_calculate_grid_equals_the_sequential_one(examples: pprocd.Farm) -> None:
    pairs = [(i, j) for i in range(N) for j in range(N)]
    assert examples.pmap("node_calculate", pairs) == sequential_grid()
    assert examples.pmap("node_calculate", [{"i": 1, "j": 2, "n": 100}]) == [102]


def test_word_lengths(examples: pprocd.Farm) -> None:
    assert examples.pmap("word_lengths", ["to be or not"]) == [
        {"to": 2, "be": 2, "or": 2, "not": 3}]


def test_per_invocation_commands(examples: pprocd.Farm) -> None:
    # One parameter: each input is that argument, here a list.
    assert examples.pmap("stats", [[1, 2, 3, 10]]) == [
        {"count": 4, "mean": 4, "median": 2.5, "min": 1, "max": 10}]
    assert examples.pmap("word_count", ["one two  three", ""]) == [3, 0]
    assert examples.pmap("shout", ["quiet please"]) == [b"QUIET PLEASE"]


def test_a_failing_per_invocation_command_fails_its_item(examples: pprocd.Farm) -> None:
    with pytest.raises(pprocd.ItemError) as raised:
        examples.pmap("stats", [[]])
    assert "exited with status 1" in raised.value.reason
    assert "StatisticsError" in raised.value.stderr_tail


FAULTS = textwrap.dedent('''
    import os
    import signal
    import sys
    import time


    def act(action: str) -> int:
        """Does what action says, then returns the runtime's process id."""
        if action.startswith("echo:"):
            # The text, and the runtime's function that called this one:
            # _answer_batch when the item came in a batch.
            return [action[5:], sys._getframe(2).f_code.co_name]
        if action == "raise":
            raise ValueError("asked to raise")
        if action.startswith("exit:"):
            os._exit(int(action[5:]))
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if action.startswith("sleep:"):
            time.sleep(float(action[6:]))
        if action == "print":
            print("printed by act")
        return os.getpid()
''')


@pytest.fixture(scope="module")
def faults_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One worker serving faults:act, declared by the table --describe prints."""
    directory = tmp_path_factory.mktemp("faults")
    (directory / "faults.py").write_text(FAULTS)
    described = subprocess.run(
        [sys.executable, "-m", "pprocd.worker", "--describe", "faults:act"], cwd=directory,
        env=server_env(), capture_output=True, text=True, timeout=EVENT_LIMIT_S, check=True)
    (directory / "faults.toml").write_text(described.stdout)
    server = ServerProcess(pprocd_binary(), workers=1,
                           extra_args=["--config", str(directory / "faults.toml")],
                           env=server_env())
    yield server
    server.stop()


@pytest.fixture
def faults(faults_server: ServerProcess) -> Iterator[pprocd.Farm]:
    assert faults_server.process.poll() is None, faults_server.stderr()
    with pprocd.Farm(faults_server.address) as farm:
        yield farm
        wait_until(lambda: idle(farm), "the server to be idle after the test")


def runtime_pid(farm: pprocd.Farm) -> int:
    (pid,) = farm.pmap("act", ["ok"])
    return int(pid)


def test_one_runtime_serves_item_after_item(faults: pprocd.Farm) -> None:
    pids = faults.pmap("act", ["ok"] * 5)
    assert len(set(pids)) == 1


def test_an_exception_fails_its_item_with_the_traceback(faults: pprocd.Farm) -> None:
    before = runtime_pid(faults)
    with pytest.raises(pprocd.ItemFailed) as raised:
        faults.pmap("act", ["raise"])
    error = raised.value
    assert "ValueError: asked to raise" in error.reason
    assert "Traceback (most recent call last)" in error.stderr_tail
    assert "in act" in error.stderr_tail
    assert "ValueError: asked to raise" in error.stderr_tail
    assert runtime_pid(faults) == before  # an exception does not end the runtime


def test_what_the_function_prints_is_the_items_log(faults: pprocd.Farm) -> None:
    results = faults.Map()
    results.manage("act")("print")
    (result,) = results.results()
    assert result.ok
    assert any(r.stream == "stderr" and "printed by act" in r.text for r in result.logs)


@pytest.mark.parametrize("action, reason", [("exit:3", "exited with status 3"),
                                            ("kill", "SIGKILL")])
def test_a_dead_runtime_fails_its_item_only_and_is_restarted(
        faults: pprocd.Farm, action: str, reason: str) -> None:
    before = runtime_pid(faults)
    results = faults.Map()
    act = results.manage("act")
    act("ok")
    act(action)
    act("ok")
    first, dead, after = results.results()
    assert first.value == before
    assert isinstance(dead.error, pprocd.ItemError)
    assert reason in str(dead.error)
    assert after.ok and after.value != before  # a new runtime


def test_a_timed_out_item_is_killed_and_the_pool_recovers(faults: pprocd.Farm) -> None:
    before = runtime_pid(faults)
    with pytest.raises(pprocd.ItemTimedOut):
        faults.pmap("act", ["sleep:600"], timeout=1)
    assert runtime_pid(faults) != before
    assert len(set(faults.pmap("act", ["ok"] * 3))) == 1


def logged(result: pprocd.Result, text: str) -> bool:
    return any(text in record.text for record in result.logs)


def test_items_go_to_the_runtime_in_batches_each_with_its_own_outcome(
        faults: pprocd.Farm) -> None:
    actions = [f"echo:{i}" for i in range(300)]
    actions[150] = "raise"
    actions[200] = "print"
    results = faults.Map(chunksize=100)
    act = results.manage("act")
    for action in actions:
        act(action)
    got = list(results.results())
    assert len(got) == len(actions)
    callers = set()
    for i, result in enumerate(got):
        if i == 150:
            assert isinstance(result.error, pprocd.ItemError)
            assert "ValueError: asked to raise" in result.error.reason
            assert "Traceback (most recent call last)" in result.error.stderr_tail
        elif i == 200:
            assert result.ok and isinstance(result.value, int)
        else:
            assert result.ok, (i, result.error)
            assert result.value[0] == str(i)
            callers.add(result.value[1])
    assert "_answer_batch" in callers, "no item came in a batch"
    # What an item wrote is in its own logs, not its batch neighbours'.
    assert [i for i, r in enumerate(got) if logged(r, "printed by act")] == [200]
    assert [i for i, r in enumerate(got) if logged(r, "asked to raise")] == [150]


@pytest.mark.parametrize("action, reason", [("exit:3", "exited with status 3"),
                                            ("kill", "SIGKILL")])
def test_a_runtime_dying_mid_batch_fails_only_the_item_that_killed_it(
        faults: pprocd.Farm, action: str, reason: str) -> None:
    actions = [f"echo:{i}" for i in range(200)]
    actions[120] = action
    results = faults.Map(chunksize=200)
    act = results.manage("act")
    for item in actions:
        act(item)
    got = list(results.results())
    assert len(got) == len(actions)
    for i, result in enumerate(got):
        if i == 120:
            assert isinstance(result.error, pprocd.ItemError)
            assert reason in str(result.error)
        else:
            assert result.ok, (i, result.error)
            assert result.value[0] == str(i)
    assert len(set(faults.pmap("act", ["ok"] * 3))) == 1


def test_a_timeout_in_a_long_map_kills_only_its_item(faults: pprocd.Farm) -> None:
    actions = [f"echo:{i}" for i in range(100)]
    actions[40] = "sleep:600"
    results = faults.Map(chunksize=100, timeout=3)
    act = results.manage("act")
    for item in actions:
        act(item)
    got = list(results.results())
    for i, result in enumerate(got):
        if i == 40:
            assert isinstance(result.error, pprocd.ItemTimedOut)
        else:
            assert result.ok, (i, result.error)
            assert result.value[0] == str(i)



HOGS = textwrap.dedent('''
    def hog(mib: int) -> int:
        """Allocates mib MiB, then returns mib."""
        block = bytearray(mib << 20)
        return len(block) >> 20
''')

HOG_ONCE = "import json, sys\nmib = json.load(sys.stdin)['mib']\nprint(len(bytearray(mib << 20)) >> 20)\n"

NODE_HOG = textwrap.dedent('''
    let text = '';
    process.stdin.on('data', (d) => { text += d; });
    process.stdin.on('end', () => {
      const mib = JSON.parse(text).mib;
      const kept = [];
      for (let i = 0; i < mib; i++) kept.push(new Array(131072).fill(i + 0.5));
      process.stdout.write(String(kept.length));
    });
''')


@pytest.fixture(scope="module")
def hogs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Python (persistent and per-invocation) and Node (per-invocation)
    commands that allocate what they are asked to, under memory limits."""
    directory = tmp_path_factory.mktemp("hogs")
    (directory / "hogs.py").write_text(HOGS)
    (directory / "hog_once.py").write_text(HOG_ONCE)
    (directory / "node_hog.js").write_text(NODE_HOG)
    python = sys.executable
    config = textwrap.dedent(f'''
        [[callable]]
        name = "py_hog"
        argv = ["{python}", "-m", "pprocd.worker", "hogs:hog"]
        working_dir = "{directory}"
        mode = "persistent"
        params = [{{ name = "mib", type = "integer" }}]

        [[callable]]
        name = "py_hog_once"
        argv = ["{python}", "hog_once.py"]
        working_dir = "{directory}"
        params = [{{ name = "mib", type = "integer" }}]

        [[callable]]
        name = "node_hog"
        argv = ["node", "--max-old-space-size=96", "node_hog.js"]
        working_dir = "{directory}"
        params = [{{ name = "mib", type = "integer" }}]

        [limits.py_hog]
        max_memory_mib = 256
        [limits.py_hog_once]
        max_memory_mib = 256
        [limits.node_hog]
        max_memory_mib = 8192
    ''')
    (directory / "hogs.toml").write_text(config)
    server = ServerProcess(pprocd_binary(), workers=1,
                           extra_args=["--config", str(directory / "hogs.toml")],
                           env=server_env())
    yield server
    server.stop()


@pytest.mark.parametrize("callable_name", ["py_hog", "py_hog_once", "node_hog"])
def test_a_command_past_its_memory_limit_fails_saying_so_and_the_next_item_runs(
        hogs_server: ServerProcess, callable_name: str) -> None:
    assert hogs_server.process.poll() is None, hogs_server.stderr()
    with pprocd.Farm(hogs_server.address) as farm:
        queue = farm.Queue(chunksize=1)
        hog = queue.manage(callable_name)
        for mib in (1, 1024, 2):
            hog(mib)
        by_index = {r.index: r for r in queue.results()}
        assert by_index[0].ok and by_index[0].value == 1, by_index[0].error
        assert isinstance(by_index[1].error, pprocd.ItemMemoryLimit), by_index[1].error
        assert by_index[2].ok and by_index[2].value == 2, by_index[2].error
