"""Module-level Python functions passed by reference to a real server:
pmap, Map, start, FarmExecutor and background jobs run the caller's own
function, and its errors come back with the remote traceback."""

from __future__ import annotations

import concurrent.futures
import importlib
import os
import pathlib
import sys
from typing import Any, List, Optional

import pytest

import pprocd
from conftest import ServerProcess, pprocd_binary, wait_until

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyfunctions  # noqa: E402
from pyfunctions import Shapes, add, countdown, describe, fail, square, template_pid  # noqa: E402


def test_pmap_of_a_function_gives_its_results_in_order(farm: pprocd.Farm) -> None:
    assert farm.pmap(square, range(1000)) == [x * x for x in range(1000)]


def test_pmap_calls_the_function_with_each_element_whole(farm: pprocd.Farm) -> None:
    # add(1) and add(2) use b's default; add([1, 2]) fails as in Python.
    assert farm.pmap(add, [1, 2]) == [11, 12]
    assert farm.pmap(describe, [[1, 2], {"k": 1}, None, 5]) == [
        [[[1, 2]], {}], [[{"k": 1}], {}], [[None], {}], [[5], {}]]
    with pytest.raises(pprocd.ItemFailed) as caught:
        farm.pmap(add, [[1, 2]])
    assert caught.value.remote_type == "TypeError"
    assert "Traceback" in caught.value.stderr_tail


def test_workers_are_forked_from_one_template_that_imported_the_module(
        farm: pprocd.Farm) -> None:
    pids = set(farm.pmap(template_pid, range(64)))
    assert len(pids) == 1
    assert pids != {pyfunctions.IMPORTED_BY}  # imported by the farm, not here


def test_a_static_method_is_called_by_its_dotted_name(farm: pprocd.Farm) -> None:
    results = farm.Map()
    area = results.manage(Shapes.area)
    area(2, 3)
    area(width=4, height=5)
    assert list(results) == [6, 20]


def test_executor_submit_and_map_call_the_function_as_written(farm: pprocd.Farm) -> None:
    with farm.executor() as executor:
        assert executor.submit(add, 1, b=5).result() == 6
        assert executor.submit(add, 1, 2).result() == 3
        assert executor.submit(describe, 1, 2).result() == [[1, 2], {}]
        assert list(executor.map(square, range(20))) == [x * x for x in range(20)]
        assert list(executor.map(add, [1, 2], [3, 4])) == [4, 6]


def test_executor_errors_carry_the_remote_traceback_as_their_cause(farm: pprocd.Farm) -> None:
    with farm.executor() as executor:
        future = executor.submit(fail, "bad input")
        with pytest.raises(pprocd.ItemFailed) as caught:
            future.result()
    error = caught.value
    assert error.remote_type == "ValueError"
    assert "bad input" in error.reason
    assert isinstance(error.__cause__, pprocd.RemoteTraceback)
    assert "Traceback" in str(error.__cause__)
    assert "fail" in str(error.__cause__)
    assert concurrent.futures.wait([future]).done == {future}


def test_start_passes_a_channel_as_the_first_argument(farm: pprocd.Farm) -> None:
    channel = farm.start(countdown, 3)
    assert [channel.receive() for _ in range(3)] == [3, 2, 1]
    channel.send("done")
    assert channel.result() == "done"


def test_a_background_job_runs_the_function_over_its_inputs(farm: pprocd.Farm) -> None:
    job = farm.submit_job(square, [1, 2, 3], ordered=True)
    assert job.result() == [1, 4, 9]


def test_a_value_that_cannot_be_sent_is_its_own_error_not_the_calls(farm: pprocd.Farm) -> None:
    with pytest.raises(TypeError):
        farm.pmap(square, [1, object()])
    with pytest.raises(TypeError):
        farm.Map().manage(square)(object())


def test_a_lambda_is_refused_at_the_call(farm: pprocd.Farm) -> None:
    with pytest.raises(TypeError, match="is a lambda"):
        farm.pmap(lambda x: x, [1])


def test_a_request_that_cannot_be_built_ends_the_call_with_its_own_error(
        farm: pprocd.Farm) -> None:
    from pprocd._stream import ItemStream

    ended: List[Optional[Exception]] = []
    stream = ItemStream(farm, False, "calculate", farm.options(packed=True),
                        lambda batch: None, lambda s, error, unanswered: ended.append(error))
    stream.add("not JSON text but str", None)  # type: ignore[arg-type]
    stream.start()
    stream.close_input()
    stream.join()
    assert len(ended) == 1 and isinstance(ended[0], TypeError), ended


def test_a_caller_over_tcp_may_not_pass_a_function() -> None:
    server = ServerProcess(pprocd_binary(), extra_args=["--listen", "tcp:127.0.0.1:0"])
    try:
        wait_until(lambda: any(" on tcp:" in line for line in server.lines),
                   "the server's TCP address")
        tcp = next(line.split(" on ")[1].split(" ")[0] for line in server.lines
                   if " on tcp:" in line)
        with pprocd.Farm(tcp) as farm:
            with pytest.raises(pprocd.PermissionDenied):
                farm.pmap(square, [1, 2])
            assert farm.pmap("calculate", [[1, 2]]) == [12]  # names still serve
    finally:
        server.stop()


def _import_from(directory: pathlib.Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Imports module ``name`` from ``directory``, which stays on sys.path
    for the test (as a user's own modules are)."""
    monkeypatch.syspath_prepend(str(directory))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return importlib.import_module(name)


def test_a_module_the_farm_cannot_import_is_invalid_argument_naming_it(
        farm: pprocd.Farm, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "fragile_module.py"
    source.write_text("def twice(x):\n    return 2 * x\n")
    module = _import_from(tmp_path, "fragile_module", monkeypatch)
    source.write_text("import no_such_module_anywhere\n")
    with pytest.raises(pprocd.FarmError) as caught:
        farm.pmap(module.twice, [1])
    assert caught.value.code_name == "INVALID_ARGUMENT"
    assert "fragile_module" in str(caught.value)
    assert "no_such_module_anywhere" in str(caught.value)


def test_a_changed_module_file_is_imported_again_by_new_calls(
        farm: pprocd.Farm, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "edited_module.py"
    source.write_text("def version(_):\n    return 1\n")
    module = _import_from(tmp_path, "edited_module", monkeypatch)
    assert farm.pmap(module.version, [0]) == [1]
    source.write_text("def version(_):\n    return 2\n")
    stat = os.stat(source)
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert farm.pmap(module.version, [0]) == [2]


def test_pprocess_start_of_a_make_parallel_function_receives_its_result(
        server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    import pprocd._farm
    import pprocd.pprocess as pprocess

    with pprocd.Farm(server.address) as farm:
        monkeypatch.setattr(pprocd._farm, "_default_farm", farm)
        channel = pprocess.start(pprocess.MakeParallel(add), 1, 2)
        assert channel.receive() == 3
        with pytest.raises(EOFError):
            channel.receive()
        counting = pprocess.start(countdown, 2)
        assert [counting.receive(), counting.receive()] == [2, 1]
        counting.send("over")
        assert counting.result() == "over"
