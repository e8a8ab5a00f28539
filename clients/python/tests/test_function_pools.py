"""The server's side of Python functions passed by reference: a template per
module that imported it once, workers forked from it that speak the worker
protocol, and everything a registered callable's workers have (errors with
their traceback, crash isolation, timeouts that kill, FRESH processes).

These tests speak the contract directly (PythonFunction in MapRequest /
StartRequest), whatever the client library builds on top of it.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import textwrap
import time
from typing import Any, Dict, List, Tuple

import grpc
import pytest
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict

from pprocd.v1 import callable_pb2, item_pb2, service_pb2, service_pb2_grpc

MODULE = textwrap.dedent('''
    import os, signal, time
    IMPORTED_BY = os.getpid()
    VERSION = 1

    def square(x):
        return x * x

    def who(x):
        return [IMPORTED_BY, os.getpid()]

    def version(x):
        return VERSION

    def fail(x):
        raise ValueError(f"no good: {x}")

    def crash(x):
        if x == 3:
            os.kill(os.getpid(), signal.SIGSEGV)
        return x

    def nap(seconds):
        time.sleep(seconds)
        return seconds

    def hog(mib):
        return len(bytearray(mib << 20))

    def spin(x):
        while True:
            pass

    def chat(channel, n):
        for i in range(n):
            channel.send(i)
        return "done"
''')


@pytest.fixture
def module(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "farmfuncs.py"
    path.write_text(MODULE)
    return path


def reference(module: pathlib.Path, qualname: str, channel: bool = False,
              module_name: str = "farmfuncs") -> callable_pb2.PythonFunction:
    path = [str(module.parent)] + [p for p in sys.path if os.path.isabs(p) and os.path.isdir(p)]
    return callable_pb2.PythonFunction(interpreter=sys.executable, module=module_name,
                                       module_file=str(module), qualname=qualname, sys_path=path,
                                       channel=channel)


def stub(address: str) -> service_pb2_grpc.ProcessFarmServiceStub:
    return service_pb2_grpc.ProcessFarmServiceStub(grpc.insecure_channel(address))


def run_map(address: str, function: callable_pb2.PythonFunction, items: List[Any],
            **options: Any) -> Tuple[Dict[int, Any], Dict[int, item_pb2.ItemResult]]:
    """Values by index, and the ItemResults of items that failed."""
    request = service_pb2.MapRequest(function=function,
                                     options=item_pb2.CallOptions(packed=True, **options),
                                     packed_inputs=json.dumps(items).encode())
    values: Dict[int, Any] = {}
    failures: Dict[int, item_pb2.ItemResult] = {}
    for response in stub(address).Map(iter([request])):
        for block in response.blocks:
            for offset, value in enumerate(json.loads(block.values)):
                values[block.first_index + offset] = value
        for result in response.results:
            if result.HasField("error"):
                failures[result.index] = result
            else:
                values[result.index] = json.loads(json.dumps(_plain(result.value)))
    return values, failures


def _plain(value: Any) -> Any:
    return MessageToDict(value)


def test_a_function_runs_in_workers_forked_from_one_template(server, module) -> None:
    values, failures = run_map(server.address, reference(module, "square"), list(range(1000)))
    assert failures == {}
    assert values == {i: i * i for i in range(1000)}
    values, _ = run_map(server.address, reference(module, "who"), list(range(200)), chunksize=1)
    importers = {v[0] for v in values.values()}
    workers = {v[1] for v in values.values()}
    assert len(importers) == 1, "the module was imported once, by the template"
    assert importers.isdisjoint(workers), "items run in forked workers, not in the template"


def test_an_exception_is_the_items_error_with_its_traceback(server, module) -> None:
    values, failures = run_map(server.address, reference(module, "fail"), [1, 2])
    assert values == {}
    assert failures[0].error.kind == item_pb2.ERROR_KIND_RAISED
    assert failures[0].error.message == "ValueError: no good: 1"
    assert "Traceback" in failures[0].error.stderr_tail
    assert 'raise ValueError(f"no good: {x}")' in failures[0].error.stderr_tail


def test_a_crash_fails_its_item_alone(server, module) -> None:
    values, failures = run_map(server.address, reference(module, "crash"), list(range(8)))
    assert set(failures) == {3}
    assert failures[3].error.kind == item_pb2.ERROR_KIND_CRASHED
    assert "SIGSEGV" in failures[3].error.message
    assert values == {i: i for i in range(8) if i != 3}


def test_a_timeout_kills_the_worker(server, module) -> None:
    values, failures = run_map(server.address, reference(module, "nap"), [0, 30, 0],
                               timeout_ms=300)
    assert failures[1].error.kind == item_pb2.ERROR_KIND_TIMED_OUT
    assert values == {0: 0, 2: 0}


def test_fresh_items_each_get_a_process_forked_from_the_template(server, module) -> None:
    values, failures = run_map(server.address, reference(module, "who"), list(range(6)),
                               isolation=item_pb2.ISOLATION_FRESH)
    assert failures == {}
    assert len({v[0] for v in values.values()}) == 1
    assert len({v[1] for v in values.values()}) == 6


def _python_children(pid: int, path: str) -> set:
    """The pids of ``pid``'s child processes whose command line names
    ``path`` (a Python template's import path)."""
    found = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as children:
            for child in children.read().split():
                try:
                    with open(f"/proc/{child}/cmdline", "rb") as cmdline:
                        if os.fsencode(path) in cmdline.read().split(b"\0"):
                            found.add(int(child))
                except FileNotFoundError:
                    pass
    return found


def test_a_new_module_imports_into_a_spare_started_ahead(server, module) -> None:
    values, _ = run_map(server.address, reference(module, "who"), [0])
    first_template = values[0][0]
    # Once that template is ready, the server starts one more process of the
    # same interpreter and import path, with no module yet.
    deadline = time.monotonic() + 30
    while not _python_children(server.process.pid, str(module.parent)) - {first_template}:
        assert time.monotonic() < deadline, "no spare was started"
        time.sleep(0.05)
    ahead = _python_children(server.process.pid, str(module.parent)) - {first_template}
    other = module.parent / "otherfuncs.py"
    other.write_text(MODULE)
    values, _ = run_map(server.address, reference(other, "who", module_name="otherfuncs"), [0])
    assert values[0][0] in ahead, "the new module was imported by the spare"


def test_a_changed_module_serves_new_calls_with_new_code(server, module) -> None:
    values, _ = run_map(server.address, reference(module, "version"), [0])
    assert values == {0: 1}
    module.write_text(MODULE.replace("VERSION = 1", "VERSION = 2"))
    os.utime(module, ns=(module.stat().st_atime_ns, module.stat().st_mtime_ns + 10**9))
    values, _ = run_map(server.address, reference(module, "version"), [0])
    assert values == {0: 2}


def test_a_module_that_does_not_import_is_invalid_argument(server, module, tmp_path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_here\n")
    with pytest.raises(grpc.RpcError) as raised:
        run_map(server.address, reference(broken, "f", module_name="broken"), [1])
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "broken" in raised.value.details()
    assert "no_such_module_here" in raised.value.details()
    # The server goes on serving.
    values, _ = run_map(server.address, reference(module, "square"), [3])
    assert values == {0: 9}


def test_malformed_references_name_the_field(server, module) -> None:
    cases = {
        "function.qualname": reference(module, "outer.<locals>.inner"),
        "function.module_file": callable_pb2.PythonFunction(
            interpreter=sys.executable, module="farmfuncs", module_file="relative.py",
            qualname="square"),
        "function.interpreter": callable_pb2.PythonFunction(
            interpreter="/nonexistent/python", module="farmfuncs", module_file=str(module),
            qualname="square"),
    }
    for field, function in cases.items():
        with pytest.raises(grpc.RpcError) as raised:
            run_map(server.address, function, [1])
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert raised.value.details().startswith(field), raised.value.details()


def test_the_pools_share_the_worker_budget(server, module) -> None:
    run_map(server.address, reference(module, "square"), list(range(2000)))
    status = stub(server.address).GetStatus(service_pb2.GetStatusRequest())
    alive = status.workers_idle + status.workers_busy + status.workers_starting
    assert alive <= status.workers_configured


def test_a_channel_function_talks_through_start(server, module) -> None:
    first = service_pb2.StartRequest(function=reference(module, "chat", channel=True),
                                     arguments=struct_pb2.Value(number_value=3))
    responses = list(stub(server.address).Start(iter([first])))
    messages = [r.message.number_value for r in responses if r.HasField("message")]
    final = [r.result for r in responses if r.HasField("result")]
    assert messages == [0, 1, 2]
    assert final[0].value.string_value == "done"



def test_a_tcp_caller_may_not_pass_a_function(module) -> None:
    import conftest
    tcp_server = conftest.ServerProcess(conftest.pprocd_binary(), workers=1,
                                        extra_args=["--listen", "tcp:127.0.0.1:0"])
    try:
        tcp = [line.split()[3] for line in tcp_server.lines
               if line.startswith("pprocd ready on tcp:")]
        assert tcp, tcp_server.lines
        with pytest.raises(grpc.RpcError) as raised:
            run_map(tcp[0][len("tcp:"):], reference(module, "square"), [1])
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "server's user" in raised.value.details()
        # The same function over the UNIX socket, from the server's own user.
        values, _ = run_map(tcp_server.address, reference(module, "square"), [4])
        assert values == {0: 16}
    finally:
        tcp_server.stop()


def test_a_tcp_caller_may_reference_a_function_registered_in_the_config(module, tmp_path) -> None:
    import conftest
    config = tmp_path / "registered.toml"
    config.write_text(textwrap.dedent(f'''
        [[callable]]
        name = "registered_version"
        python = "farmfuncs:version"
        python_path = ["{module.parent}"]
        interpreter = "{sys.executable}"
    '''))
    # The caller's own copy of the module differs: the registered one runs.
    theirs = tmp_path / "theirs" / "farmfuncs.py"
    theirs.parent.mkdir()
    theirs.write_text(MODULE.replace("VERSION = 1", "VERSION = 2"))
    tcp_server = conftest.ServerProcess(conftest.pprocd_binary(), workers=1,
                                        extra_args=["--config", str(config),
                                                    "--listen", "tcp:127.0.0.1:0"])
    try:
        tcp = [line.split()[3] for line in tcp_server.lines
               if line.startswith("pprocd ready on tcp:")][0][len("tcp:"):]
        values, _ = run_map(tcp, reference(theirs, "version"), [0, 0])
        assert values == {0: 1, 1: 1}
        job = stub(tcp).Submit(service_pb2.SubmitRequest(
            function=reference(theirs, "version"), inputs=[struct_pb2.Value(number_value=0)]))
        assert job.job.callable == "registered_version"
        with pytest.raises(grpc.RpcError) as raised:
            run_map(tcp, reference(theirs, "square"), [1])
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "farmfuncs:square is not one of them" in raised.value.details()
    finally:
        tcp_server.stop()


def test_a_config_declared_python_callable_runs_in_a_forked_pool(module, tmp_path) -> None:
    import conftest
    import pprocd
    config = tmp_path / "pprocd.toml"
    config.write_text(textwrap.dedent(f'''
        [[callable]]
        name = "sq"
        description = "Squares a number"
        python = "farmfuncs:square"
        python_path = ["{module.parent}"]
        interpreter = "{sys.executable}"
        params = [{{ name = "x", type = "integer" }}]

        [[callable]]
        name = "who"
        python = "farmfuncs.py:who"
        interpreter = "{sys.executable}"
    '''))
    # The module's file sits beside the config: "farmfuncs.py:who" finds it.
    server = conftest.ServerProcess(conftest.pprocd_binary(), workers=2,
                                    extra_args=["--config", str(config)])
    try:
        with pprocd.Farm(server.address) as farm:
            assert farm.pmap("sq", range(100)) == [x * x for x in range(100)]
            described = {c.name: c for c in farm.callables()}
            assert described["sq"].origin.startswith("python: farmfuncs:square")
            # Declared parameters are checked before any work runs.
            with pytest.raises(pprocd.PprocdError) as raised:
                farm.pmap("sq", ["seven"])
            assert "integer" in str(raised.value)
            pids = farm.pmap("who", range(50), chunksize=1)
            assert len({importer for importer, _ in pids}) == 1
    finally:
        server.stop()


def test_a_registered_python_functions_limits_hold_in_its_pool(module, tmp_path) -> None:
    import conftest
    import pprocd
    config = tmp_path / "limits.toml"
    config.write_text(textwrap.dedent(f'''
        [[callable]]
        name = "py_hog"
        python = "farmfuncs:hog"
        python_path = ["{module.parent}"]
        interpreter = "{sys.executable}"

        [[callable]]
        name = "py_spin"
        python = "farmfuncs:spin"
        python_path = ["{module.parent}"]
        interpreter = "{sys.executable}"

        [limits.py_hog]
        max_memory_mib = 64

        [limits.py_spin]
        cpu_seconds = 1
    '''))
    server = conftest.ServerProcess(conftest.pprocd_binary(), workers=1,
                                    extra_args=["--config", str(config)])
    try:
        with pprocd.Farm(server.address) as farm:
            with pytest.raises(pprocd.ItemMemoryLimit):
                farm.pmap("py_hog", [512])
            assert farm.pmap("py_hog", [1]) == [1 << 20]
            with pytest.raises(pprocd.ItemCpuLimit):
                farm.pmap("py_spin", [0])
            assert farm.pmap("py_hog", [2]) == [2 << 20]
    finally:
        server.stop()
