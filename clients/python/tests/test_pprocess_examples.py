"""The pprocess tutorial's programs (examples/pprocess), which differ from
the tutorial's only by their import (``import pprocd.pprocess as
pprocess``), run against a real server: each parallel program prints the
same grid as its sequential version.

The server gets $PPROCD_ADDRESS in its environment, as the background
programs' tasks use the farm themselves from its workers, and enough
workers for the ten background tasks of simple_persistent_queue and their
calculations."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
from typing import Iterator, List

import pytest

from conftest import ServerProcess, pprocd_binary

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples" / "pprocess"
CLIENT_SRC = pathlib.Path(__file__).resolve().parents[1] / "src"
PROGRAM_LIMIT_S = 120
WORKERS = 16

# (parallel program, its sequential version), as the tutorial pairs them.
PROGRAMS = [
    ("simple_pmap", "simple_map"),
    ("simple_managed_map", "simple1"),
    ("simple_manage_map_reusable", "simple1"),
    ("simple_managed_queue", "simple2"),
    ("simple_continuous_queue", "simple2"),
    ("simple_managed", "simple2"),
    ("simple_start", "simple2"),
    ("simple_background_queue", "simple2"),
    ("simple_persistent_queue", "simple2"),
]
BACKGROUND = ["simple_background_queue", "simple_persistent_queue"]
_GRID_LINE = re.compile(r"^(\d+ )*\d+ ?$")


@pytest.fixture(scope="module")
def examples_server() -> Iterator[ServerProcess]:
    env = dict(os.environ, PYTHONPATH=str(CLIENT_SRC))
    server = ServerProcess(pprocd_binary(), workers=WORKERS, env=env, address_env=True)
    yield server
    server.stop()


def _run(program: str, server: ServerProcess, cwd: pathlib.Path, *args: str) -> str:
    env = dict(os.environ, PPROCD_ADDRESS=server.address, PYTHONPATH=str(CLIENT_SRC))
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{program}.py"), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=PROGRAM_LIMIT_S)
    assert done.returncode == 0, f"{program} {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def _grid(output: str) -> List[str]:
    """The lines of numbers a program printed (its grid), trailing spaces
    dropped: progress lines and the time taken differ between programs."""
    return [line.rstrip() for line in output.splitlines() if _GRID_LINE.match(line)]


def _reference(name: str, cwd: pathlib.Path) -> List[str]:
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py")], cwd=cwd,
                          capture_output=True, text=True, timeout=PROGRAM_LIMIT_S, check=True)
    return _grid(done.stdout)


def test_the_sequential_versions_print_the_tutorials_grid(tmp_path: pathlib.Path) -> None:
    expected = [" ".join(str(i * 10 + j) for j in range(10)) for i in range(10)]
    for name in ("simple_map", "simple1", "simple2"):
        assert _reference(name, tmp_path) == expected, name


def test_every_program_differs_from_pprocess_only_by_its_import() -> None:
    for program, _ in PROGRAMS:
        source = (EXAMPLES / f"{program}.py").read_text()
        assert "import pprocd.pprocess as pprocess\n" in source
        assert "import pprocess\n" not in source


@pytest.mark.parametrize("program, reference", PROGRAMS)
def test_a_tutorial_program_prints_its_sequential_versions_grid(
        program: str, reference: str, examples_server: ServerProcess,
        tmp_path: pathlib.Path) -> None:
    grid = _grid(_run(program, examples_server, tmp_path))
    assert grid == _reference(reference, tmp_path)


@pytest.mark.parametrize("program", BACKGROUND)
def test_background_work_is_collected_by_another_process(
        program: str, examples_server: ServerProcess, tmp_path: pathlib.Path) -> None:
    started = _run(program, examples_server, tmp_path, "--start")
    assert _grid(started) == []
    collected = _run(program, examples_server, tmp_path, "--reconnect")
    assert _grid(collected) == _reference("simple2", tmp_path)
