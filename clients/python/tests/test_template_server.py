"""The Python worker runtime under a real pprocd: calls that name a Python
function by reference (PythonFunction in the contract) run in forked Python
workers. The requests are built by hand here, so that the runtime is
checked whatever the client's higher-level API does."""

from __future__ import annotations

import pathlib
import sys
import textwrap
from typing import Any, Dict, List

import pytest

import pprocd
from pprocd import _packed
from pprocd._values import from_value, to_value
from pprocd.v1 import callable_pb2, item_pb2, service_pb2

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"

MODULE = textwrap.dedent('''
    import os
    import sys

    TABLE = list(range(1000))


    def square(x):
        return x * x


    def facts(_):
        return {"pid": os.getpid(), "table": id(TABLE)}


    def shout(x):
        print("shouting", x)
        return x


    def fail(x):
        raise ValueError(f"bad {x}")


    def crash(_):
        os._exit(7)


    def conversation(channel, greeting):
        channel.send(greeting)
        total = 0
        for value in channel:
            channel.send(value * 2)
            total += value
        return total
''')


@pytest.fixture
def module_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "remote_functions.py"
    path.write_text(MODULE)
    return path


def _function(path: pathlib.Path, qualname: str, channel: bool = False
              ) -> callable_pb2.PythonFunction:
    return callable_pb2.PythonFunction(
        interpreter=sys.executable, module=path.stem, module_file=str(path), qualname=qualname,
        sys_path=[str(path.parent), str(SRC)], channel=channel)


def _map(farm: pprocd.Farm, function: callable_pb2.PythonFunction, items: List[Any],
         **options: Any) -> Dict[int, Any]:
    """Runs a packed Map; returns each item's value, or its ItemResult when
    it is not a plain value of a block."""
    request = service_pb2.MapRequest(
        function=function, packed_inputs=_packed.dumps(items),
        options=item_pb2.CallOptions(packed=True, **options))
    outcomes: Dict[int, Any] = {}
    for response in farm._stub.Map(iter([request]), timeout=120):
        for block in response.blocks:
            for offset, value in enumerate(_packed.loads_values(block.values)):
                outcomes[block.first_index + offset] = value
        for result in response.results:
            if result.last:
                outcomes[result.index] = result
    return outcomes


def test_map_runs_in_forked_python_workers(farm: pprocd.Farm, module_file: pathlib.Path) -> None:
    outcomes = _map(farm, _function(module_file, "square"), list(range(2000)))
    assert [outcomes[i] for i in range(2000)] == [i * i for i in range(2000)]
    facts = _map(farm, _function(module_file, "facts"), [None] * 50, chunksize=1)
    assert len({fact["table"] for fact in facts.values()}) == 1  # one module, forked


def test_failures_logs_and_crashes_reach_the_caller(farm: pprocd.Farm,
                                                    module_file: pathlib.Path) -> None:
    failed = _map(farm, _function(module_file, "fail"), ["x"])[0]
    assert failed.error.kind == item_pb2.ERROR_KIND_RAISED
    assert failed.error.message == "ValueError: bad x"
    assert "Traceback" in failed.error.stderr_tail
    shouted = _map(farm, _function(module_file, "shout"), [5])[0]
    assert from_value(shouted.value) == 5
    assert [log.data for log in shouted.logs] == [b"shouting 5\n"]
    crashed = _map(farm, _function(module_file, "crash"), [None])[0]
    assert crashed.error.kind == item_pb2.ERROR_KIND_CRASHED
    assert crashed.error.exit_code == 7
    # The pool goes on after a crash.
    assert _map(farm, _function(module_file, "square"), [3]) == {0: 9}


def test_fresh_items_each_run_in_a_new_process(farm: pprocd.Farm,
                                               module_file: pathlib.Path) -> None:
    facts = _map(farm, _function(module_file, "facts"), [None] * 5,
                 isolation=item_pb2.ISOLATION_FRESH)
    assert len({fact["pid"] for fact in facts.values()}) == 5


def test_unknown_function_fails_its_items(farm: pprocd.Farm, module_file: pathlib.Path) -> None:
    outcome = _map(farm, _function(module_file, "missing"), [1])[0]
    assert outcome.error.kind == item_pb2.ERROR_KIND_INVALID_ARGUMENT
    assert outcome.error.message == "unknown function remote_functions.missing"


def test_start_talks_to_a_channel_function(farm: pprocd.Farm, module_file: pathlib.Path) -> None:
    function = _function(module_file, "conversation", channel=True)
    requests = [service_pb2.StartRequest(function=function,
                                         arguments=to_value("hi")),
                service_pb2.StartRequest(message=to_value(1)),
                service_pb2.StartRequest(message=to_value(2))]
    messages = []
    final = None
    for response in farm._stub.Start(iter(requests), timeout=120):
        if response.HasField("message"):
            messages.append(from_value(response.message))
        elif response.HasField("result"):
            final = response.result
    assert messages == ["hi", 2, 4]
    assert final is not None and from_value(final.value) == 3
