"""The client's modules import each other in layers only (lint-imports, the
contracts in pyproject.toml): pprocess > Farm > features > connection >
codecs, and the worker runtime never loads gRPC or the client."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import pprocd

pytest.importorskip("importlinter", reason="import-linter is not installed "
                    "(clients/python/requirements-dev.txt, scripts/setup-python)")

CLIENT = pathlib.Path(__file__).resolve().parent.parent
CONFIG = CLIENT / "pyproject.toml"


def lint_imports(src: pathlib.Path) -> subprocess.CompletedProcess[str]:
    """lint-imports over the pprocd package found in ``src``, without a cache
    (it would be written beside the sources)."""
    env = dict(os.environ, PYTHONPATH=str(src))
    command = ("import sys; from importlinter.cli import lint_imports_command; "
               "sys.exit(lint_imports_command())")
    return subprocess.run([sys.executable, "-c", command, "--no-cache", "--config", str(CONFIG)],
                          cwd=str(src), env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_the_client_keeps_its_import_contracts() -> None:
    src = pathlib.Path(pprocd.__file__).resolve().parent.parent
    run = lint_imports(src)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 kept, 0 broken" in run.stdout


def test_a_feature_that_imports_the_farm_breaks_the_layers(tmp_path: pathlib.Path) -> None:
    shutil.copytree(pathlib.Path(pprocd.__file__).resolve().parent, tmp_path / "pprocd",
                    ignore=shutil.ignore_patterns("__pycache__"))
    channel = tmp_path / "pprocd" / "_channel.py"
    channel.write_text(channel.read_text() + "\nfrom ._farm import default_farm  # noqa\n")
    worker = tmp_path / "pprocd" / "_wire.py"
    worker.write_text(worker.read_text() + "\nimport grpc  # noqa\n")
    run = lint_imports(tmp_path)
    assert run.returncode != 0
    assert "pprocd._channel -> pprocd._farm" in run.stdout, run.stdout
    assert "pprocd._wire -> grpc" in run.stdout, run.stdout
    assert "0 kept, 2 broken" in run.stdout, run.stdout
