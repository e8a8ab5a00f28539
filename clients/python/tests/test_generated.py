"""The checked-in generated code is exactly what scripts/regen makes from
proto/ now: a contract change without regenerating fails here."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

CLIENT = pathlib.Path(__file__).resolve().parent.parent
CHECKED_IN = CLIENT / "src" / "pprocd" / "v1"
CHECKED_IN_WIRE = CLIENT / "src" / "pprocd" / "wire" / "v1"


def _generated(directory):
    return {p.name: p.read_bytes() for p in directory.iterdir()
            if p.is_file() and p.name != "__init__.py"}


def test_generated_code_matches_the_contract(tmp_path):
    if importlib.util.find_spec("grpc_tools") is None:
        pytest.skip("grpcio-tools is not installed (scripts/setup-python installs it)")
    regen = CLIENT / "scripts" / "regen"
    run = subprocess.run([sys.executable, str(regen), "--out", str(tmp_path / "v1"),
                          "--wire-out", str(tmp_path / "wire")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    pairs = ((tmp_path / "v1", CHECKED_IN), (tmp_path / "wire", CHECKED_IN_WIRE))
    for fresh_dir, checked_in in pairs:
        fresh = _generated(fresh_dir)
        kept = _generated(checked_in)
        assert sorted(kept) == sorted(fresh), \
            f"generated files in {checked_in} differ: run clients/python/scripts/regen"
        stale = [name for name in fresh if fresh[name] != kept[name]]
        assert not stale, f"{stale} differ from proto/: run clients/python/scripts/regen"


def test_package_ships_type_information():
    assert (CLIENT / "src" / "pprocd" / "py.typed").is_file()
    assert (CHECKED_IN / "service_pb2.pyi").is_file()
    assert (CHECKED_IN_WIRE / "wire_pb2.pyi").is_file()
