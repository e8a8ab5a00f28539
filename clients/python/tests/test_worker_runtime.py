"""The Python worker runtime (python -m pprocd.worker), run as the server
runs it: a subprocess speaking newline-delimited JSON on stdin and stdout."""

from __future__ import annotations

import json
import os
import pathlib
import select
import subprocess
import sys
import textwrap
from typing import Any, Dict, Iterator, List, Optional

import pytest

from conftest import EVENT_LIMIT_S

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"

FUNCTIONS = textwrap.dedent('''
    """Functions the tests serve."""
    import os
    import subprocess
    import sys
    from typing import Dict, List, Optional

    print("imported functions")  # output while importing stays off stdout too

    calls = 0


    def calculate(i: int, j: int, n: int = 10, delay: float = 0.0) -> int:
        """Returns i * n + j.

        The pprocess tutorial's function.
        """
        return i * n + j


    def count() -> int:
        """How many times this process ran it."""
        global calls
        calls += 1
        return calls


    def echo(value):
        return value


    def fail(text):
        raise ValueError(f"cannot use {text!r}")


    def chatty(x):
        print("to stdout", x)
        print("to stdout without a newline", end="")
        sys.stdout.write("written to sys.stdout\\n")
        os.write(1, b"written to descriptor 1\\n")
        subprocess.run(["echo", "from a subprocess"], check=True)
        print("to stderr", file=sys.stderr)
        return x * 2


    def unserializable():
        return {"fine": [1, 2], "not fine": {1, 2}}


    def not_a_number():
        return float("nan")


    def pair(a, b, /, c=3):
        return [a, b, c]


    def typed(word: str, flag: bool = True, ratio: float = 0.5, items: List[int] = [1, 2],
              table: Dict[str, int] = {"a": 1}, anything=None, maybe: Optional[int] = None,
              quoted: str = 'say "hi"\\n', *rest, **options):
        pass


    def undocumented(x: int) -> int:
        return x


    def die(status):
        os._exit(status)


    def offer():
        """The batch offer, as the function sees it."""
        return os.environ.get("PPROCD_BATCH")


    def loud(x):
        if x == "loud":
            print("loud")
        return x
''')


def runtime_env() -> Dict[str, str]:
    """The environment the runtime runs in: this checkout's package first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


@pytest.fixture
def workdir(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "functions.py").write_text(FUNCTIONS)
    return tmp_path


class Runtime:
    """A running ``python -m pprocd.worker TARGET``."""

    def __init__(self, cwd: pathlib.Path, *args: str, env: Optional[Dict[str, str]] = None,
                 stderr: Any = subprocess.PIPE) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pprocd.worker", *args], cwd=cwd,
            env={**runtime_env(), **(env or {})}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=stderr)
        self.next_id = 0

    def send_line(self, line: bytes) -> Dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], EVENT_LIMIT_S)
        if not ready:
            pytest.fail(f"the runtime did not answer {line!r}")
        response = self.process.stdout.readline()
        assert response.endswith(b"\n"), f"not one whole line: {response!r}"
        answer = json.loads(response)
        assert isinstance(answer, dict)
        return answer

    def call(self, args: Any) -> Dict[str, Any]:
        """Sends one request; returns the response, checking its id."""
        self.next_id += 1
        answer = self.send_line(json.dumps({"id": self.next_id, "args": args}).encode())
        assert answer["id"] == self.next_id
        return answer

    def finish(self) -> "tuple[int, str, str]":
        """Ends the input; returns the exit status, the rest of stdout and
        all of stderr."""
        stdout, stderr = self.process.communicate(timeout=EVENT_LIMIT_S)
        return self.process.returncode, stdout.decode(), (stderr or b"").decode()


@pytest.fixture
def serve(workdir: pathlib.Path) -> Iterator[Any]:
    started: List[Runtime] = []

    def start(*args: str, cwd: Optional[pathlib.Path] = None, **options: Any) -> Runtime:
        runtime = Runtime(cwd or workdir, *args, **options)
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        if runtime.process.poll() is None:
            runtime.process.kill()
            runtime.process.communicate()


def test_arguments_object_list_and_scalar(serve: Any) -> None:
    calculate = serve("functions:calculate")
    assert calculate.call({"i": 3, "j": 4}) == {"id": 1, "result": 34}
    assert calculate.call({"i": 3, "j": 4, "n": 100}) == {"id": 2, "result": 304}
    assert calculate.call([5, 6]) == {"id": 3, "result": 56}
    assert calculate.call([5, 6, 7]) == {"id": 4, "result": 41}
    status, rest, _ = calculate.finish()
    assert (status, rest) == (0, "")

    echo = serve("functions:echo")
    assert echo.call(7)["result"] == 7
    assert echo.call("text")["result"] == "text"
    assert echo.call(None)["result"] is None
    assert echo.call({"value": {"nested": [1, 2.5, True]}})["result"] == {"nested": [1, 2.5, True]}


def test_one_process_serves_every_request(serve: Any) -> None:
    count = serve("functions:count")
    assert [count.call(None)["result"] for _ in range(3)] == [1, 2, 3]


def test_ids_are_echoed_as_sent(serve: Any) -> None:
    echo = serve("functions:echo")
    assert echo.send_line(b'{"id": 41, "args": [1]}') == {"id": 41, "result": 1}
    assert echo.send_line(b'{"id": 9, "args": [2]}') == {"id": 9, "result": 2}


def test_exception_is_the_error_and_its_traceback_goes_to_stderr(serve: Any) -> None:
    fail = serve("functions:fail")
    assert fail.call({"text": "x"}) == {"id": 1, "error": "ValueError: cannot use 'x'"}
    # The runtime goes on after an exception.
    assert fail.call(["y"])["error"] == "ValueError: cannot use 'y'"
    _, _, stderr = fail.finish()
    assert "Traceback (most recent call last)" in stderr
    assert 'functions.py", line' in stderr and "in fail" in stderr
    assert "ValueError: cannot use 'x'" in stderr
    assert "pprocd/worker.py" not in stderr  # only the function's own frames


def test_arguments_that_do_not_bind_are_an_error(serve: Any) -> None:
    calculate = serve("functions:calculate")
    answer = calculate.call({"i": 1})
    assert answer["error"].startswith("TypeError: ")
    assert "'j'" in answer["error"]
    assert calculate.call({"i": 1, "j": 2})["result"] == 12


def test_output_of_the_function_goes_to_stderr_not_the_responses(serve: Any) -> None:
    chatty = serve("functions:chatty")
    assert chatty.call([21]) == {"id": 1, "result": 42}
    assert chatty.call({"x": 1}) == {"id": 2, "result": 2}
    status, rest, stderr = chatty.finish()
    assert (status, rest) == (0, "")  # stdout had the two responses and nothing else
    for text in ("imported functions", "to stdout 21", "to stdout without a newline",
                 "written to sys.stdout", "written to descriptor 1", "from a subprocess",
                 "to stderr"):
        assert text in stderr


def test_result_that_is_not_json_is_an_error_naming_its_type(serve: Any) -> None:
    runtime = serve("functions:unserializable")
    answer = runtime.call(None)
    assert answer["error"].startswith("TypeError: the result of unserializable is not "
                                      "JSON-serializable")
    assert "set" in answer["error"]
    nan = serve("functions:not_a_number")
    assert "not JSON-serializable" in nan.call(None)["error"]


def test_positional_only_parameters_and_no_arguments(serve: Any) -> None:
    pair = serve("functions:pair")
    assert pair.call({"a": 1, "b": 2})["result"] == [1, 2, 3]
    assert pair.call({"a": 1, "b": 2, "c": 4})["result"] == [1, 2, 4]
    # A callable declared without parameters gets null for no input.
    count = serve("functions:count")
    assert count.call(None)["result"] == 1


def test_file_target_and_path_option(serve: Any, workdir: pathlib.Path,
                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    by_file = serve(str(workdir / "functions.py") + ":calculate", cwd=elsewhere)
    assert by_file.call([1, 2])["result"] == 12
    by_path = serve("--path", str(workdir), "functions:calculate", cwd=elsewhere)
    assert by_path.call([2, 3])["result"] == 23
    relative = serve("functions.py:echo")
    assert relative.call(["x"])["result"] == "x"


def test_malformed_request_is_answered_and_the_runtime_goes_on(serve: Any) -> None:
    echo = serve("functions:echo")
    answer = echo.send_line(b"not json")
    assert answer["id"] is None and answer["error"].startswith("malformed request")
    assert echo.call([5])["result"] == 5


def test_a_function_that_exits_ends_the_runtime_with_its_status(serve: Any) -> None:
    die = serve("functions:die")
    assert die.process.stdin is not None
    die.process.stdin.write(b'{"id": 1, "args": [3]}\n')
    die.process.stdin.flush()
    assert die.process.wait(EVENT_LIMIT_S) == 3


@pytest.mark.parametrize("target, message", [
    ("functions:missing", "functions has no attribute 'missing'"),
    ("no_such_module:f", "no module named 'no_such_module'"),
    ("missing.py:f", "no such file: missing.py"),
    ("functions", "must be module:function"),
    ("functions:calls", "is not callable (its type is int)"),
])
def test_a_target_that_does_not_load_stops_the_runtime_saying_why(
        serve: Any, target: str, message: str) -> None:
    status, stdout, stderr = serve(target).finish()
    assert status == 2
    assert stdout == ""
    assert f"cannot load {target}" in stderr and message in stderr


def describe(workdir: pathlib.Path, *args: str) -> Dict[str, Any]:
    """The one [[callable]] table --describe prints, parsed."""
    tomllib = pytest.importorskip("tomllib", reason="parsing TOML needs Python 3.11")
    done = subprocess.run([sys.executable, "-m", "pprocd.worker", "--describe", *args],
                          cwd=workdir, env=runtime_env(), capture_output=True, text=True,
                          timeout=EVENT_LIMIT_S, check=True)
    document = tomllib.loads(done.stdout)
    assert list(document) == ["callable"] and len(document["callable"]) == 1
    return dict(document["callable"][0])


def test_describe_prints_a_callable_table(workdir: pathlib.Path) -> None:
    table = describe(workdir, "functions:calculate")
    assert table == {
        "name": "calculate",
        "description": "Returns i * n + j.",
        "argv": [sys.executable, "-m", "pprocd.worker", "functions:calculate"],
        "working_dir": str(workdir),
        "mode": "persistent",
        "params": [
            {"name": "i", "type": "integer"},
            {"name": "j", "type": "integer"},
            {"name": "n", "type": "integer", "default": 10},
            {"name": "delay", "type": "number", "default": 0.0},
        ],
    }


def test_describe_types_defaults_and_options(workdir: pathlib.Path) -> None:
    table = describe(workdir, "--path", "lib", "--name", "renamed", "functions.py:typed")
    assert table["name"] == "renamed"
    assert "description" not in table
    assert table["argv"] == [sys.executable, "-m", "pprocd.worker", "--path", "lib",
                             "functions.py:typed"]
    assert table["params"] == [
        {"name": "word", "type": "string"},
        {"name": "flag", "type": "boolean", "default": True},
        {"name": "ratio", "type": "number", "default": 0.5},
        {"name": "items", "type": "list", "default": [1, 2]},
        {"name": "table", "type": "struct", "default": {"a": 1}},
        # TOML has no null: these two are required in the table.
        {"name": "anything", "type": "any"},
        {"name": "maybe", "type": "any"},
        {"name": "quoted", "type": "string", "default": 'say "hi"\n'},
    ]
    assert describe(workdir, "functions:count")["params"] == []
    assert "description" not in describe(workdir, "functions:undocumented")


def test_described_argv_serves_the_function(serve: Any, workdir: pathlib.Path) -> None:
    table = describe(workdir, "functions:calculate")
    process = subprocess.run(table["argv"], cwd=table["working_dir"], env=runtime_env(),
                             input=b'{"id": 1, "args": {"i": 2, "j": 5}}\n',
                             capture_output=True, timeout=EVENT_LIMIT_S)
    assert process.returncode == 0
    assert json.loads(process.stdout) == {"id": 1, "result": 25}


def test_without_the_batch_offer_nothing_is_announced(serve: Any) -> None:
    calculate = serve("functions:calculate")
    assert calculate.call({"i": 1, "j": 2}) == {"id": 1, "result": 12}


def test_the_batch_offer_is_taken_and_batches_are_answered_in_order(serve: Any) -> None:
    runtime = serve("functions:calculate", env={"PPROCD_BATCH": "1"})
    assert runtime.process.stdout is not None
    assert json.loads(runtime.process.stdout.readline()) == {"batch": True}
    batch = [{"id": 10 + k, "args": {"i": k, "j": 1}} for k in range(5)]
    batch[2]["args"] = {"i": "x"}  # does not bind: that item alone fails
    answer = runtime.send_line(json.dumps({"batch": batch}).encode())
    answers = answer["batch"]
    assert [a["id"] for a in answers] == [10, 11, 12, 13, 14]
    assert [a.get("result") for a in answers] == [1, 11, None, 31, 41]
    assert answers[2]["error"].startswith("TypeError")
    # One request a line goes on working.
    assert runtime.call({"i": 2, "j": 3}) == {"id": 1, "result": 23}
    status, _, stderr = runtime.finish()
    assert status == 0
    assert "TypeError" in stderr  # the traceback


def test_the_offer_is_not_passed_on_to_the_function(serve: Any) -> None:
    runtime = serve("functions:offer", env={"PPROCD_BATCH": "1"})
    assert runtime.process.stdout is not None
    assert json.loads(runtime.process.stdout.readline()) == {"batch": True}
    answer = runtime.send_line(b'{"batch": [{"id": 1, "args": null}, {"id": 2, "args": null}]}')
    assert answer == {"batch": [{"id": 1, "result": None}, {"id": 2, "result": None}]}


def test_a_batch_ends_after_the_first_call_that_writes_to_stderr(
        serve: Any, tmp_path: pathlib.Path) -> None:
    with open(tmp_path / "stderr", "wb") as stderr:
        runtime = serve("functions:loud", stderr=stderr)
        batch = [{"id": k, "args": arg} for k, arg in enumerate([1, 2, "loud", 4, 5])]
        answer = runtime.send_line(json.dumps({"batch": batch}).encode())
        assert answer == {"batch": [{"id": 0, "result": 1}, {"id": 1, "result": 2},
                                    {"id": 2, "result": "loud"}]}
        answer = runtime.send_line(json.dumps({"batch": batch[3:]}).encode())
        assert answer == {"batch": [{"id": 3, "result": 4}, {"id": 4, "result": 5}]}
        # A result that is no JSON is its item's error, and also ends it.
        unserializable = serve("functions:echo", stderr=stderr)
        answer = unserializable.send_line(json.dumps({"batch": [
            {"id": 1, "args": 1}, {"id": 2, "args": float("inf")},
            {"id": 3, "args": 3}]}).encode())
        assert [a["id"] for a in answer["batch"]] == [1, 2]
        assert "not JSON-serializable" in answer["batch"][1]["error"]
    assert "loud" in (tmp_path / "stderr").read_text()


def test_a_malformed_batch_is_answered_and_the_runtime_goes_on(serve: Any) -> None:
    runtime = serve("functions:echo")
    answer = runtime.send_line(b'{"batch": [1, 2]}')
    assert answer["id"] is None and answer["error"].startswith("malformed request")
    assert runtime.call(5) == {"id": 1, "result": 5}
