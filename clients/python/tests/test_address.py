"""The address search (shared with the server and every client) and the
message a user gets when no server is running."""

import os
import stat
import subprocess
import sys

import pytest

import pprocd


@pytest.mark.parametrize("given, target", [
    ("unix:run/pprocd.sock", "unix:run/pprocd.sock"),
    ("unix:/var/run/p.sock", "unix:/var/run/p.sock"),
    ("unix:///var/run/p.sock", "unix:///var/run/p.sock"),
    ("run/pprocd.sock", "unix:run/pprocd.sock"),
    ("/abs/dir/socket", "unix:/abs/dir/socket"),
    ("farm.sock", "unix:farm.sock"),
    ("tcp:127.0.0.1:7000", "127.0.0.1:7000"),
    ("localhost:7000", "localhost:7000"),
    ("tcp:[::1]:7000", "[::1]:7000"),
    ("  unix:x.sock ", "unix:x.sock"),
])
def test_accepted_address_forms(given, target):
    assert pprocd.normalize_address(given) == target


@pytest.mark.parametrize("given, why", [
    ("", "empty"),
    ("unix:", "socket path is empty"),
    ("unix://host/x", "unix:// needs an absolute path"),
    ("tcp:localhost", "expected HOST:PORT"),
    ("localhost:0", "is not a port"),
    ("localhost:http", "is not a port"),
    (":7000", "host is empty"),
])
def test_invalid_addresses_say_why(given, why):
    with pytest.raises(ValueError, match=why):
        pprocd.normalize_address(given)


def test_argument_then_environment_then_per_user_socket(monkeypatch, tmp_path):
    monkeypatch.delenv(pprocd.ADDRESS_ENV, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert pprocd.resolve_address() == f"unix:{tmp_path}/pprocd/pprocd.sock"
    monkeypatch.setenv(pprocd.ADDRESS_ENV, "tcp:127.0.0.1:9")
    assert pprocd.resolve_address() == "127.0.0.1:9"
    assert pprocd.Farm().address == "127.0.0.1:9"
    assert pprocd.resolve_address("unix:a.sock") == "unix:a.sock"
    monkeypatch.setenv(pprocd.ADDRESS_ENV, "nonsense")
    with pytest.raises(ValueError, match=r"\$PPROCD_ADDRESS"):
        pprocd.resolve_address()
    monkeypatch.setenv(pprocd.ADDRESS_ENV, "")
    assert pprocd.resolve_address() == f"unix:{tmp_path}/pprocd/pprocd.sock"


def test_without_xdg_runtime_dir_the_per_user_socket_is_in_a_private_tmp_dir(monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    expected = f"/tmp/pprocd-{os.geteuid()}/pprocd.sock"
    assert pprocd.user_socket_path() == expected
    monkeypatch.setenv("XDG_RUNTIME_DIR", "relative/dir")  # ignored, as XDG says
    assert pprocd.user_socket_path() == expected


def test_an_existing_per_user_socket_is_used(monkeypatch, tmp_path):
    monkeypatch.delenv(pprocd.ADDRESS_ENV, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "pprocd").mkdir()
    os.mknod(tmp_path / "pprocd" / "pprocd.sock", 0o600 | stat.S_IFSOCK)
    located = pprocd.locate_server()
    assert located.target == f"unix:{tmp_path}/pprocd/pprocd.sock"


def test_the_search_names_each_socket_in_order(monkeypatch, tmp_path):
    monkeypatch.delenv(pprocd.ADDRESS_ENV, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    located = pprocd.locate_server()
    assert located.tried == [f"unix:{tmp_path}/pprocd/pprocd.sock (the per-user socket)",
                             "unix:/run/pprocd/pprocd.sock (the system socket)"]
    assert located.no_server_hint.endswith("start one with `pprocd` or scripts/run")


def test_no_server_gives_one_line_naming_the_address_and_the_fix(tmp_path):
    address = f"unix:{tmp_path}/nothing.sock"
    with pprocd.Farm(address) as farm:
        with pytest.raises(pprocd.ServerUnavailable) as caught:
            farm.pmap("echo", [1])
    message = str(caught.value)
    assert "\n" not in message
    assert address in message
    assert f"pprocd --listen {address}" in message
    assert caught.value.code_name == "UNAVAILABLE"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_no_server_without_an_address_names_every_socket_tried_and_how_to_start_one(
        tmp_path, monkeypatch):
    monkeypatch.delenv(pprocd.ADDRESS_ENV, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pprocd.Farm() as farm:
        for attempt in (farm.status, farm.callables):
            with pytest.raises(pprocd.ServerUnavailable) as caught:
                attempt()
            message = str(caught.value)
            assert message.startswith(
                f"cannot reach pprocd at unix:{tmp_path}/pprocd/pprocd.sock: ")
            user = message.index(f"tried unix:{tmp_path}/pprocd/pprocd.sock (the per-user socket)")
            system = message.index("unix:/run/pprocd/pprocd.sock (the system socket)")
            assert user < system
            assert "$PPROCD_ADDRESS" in message
            assert message.endswith("start one with `pprocd` or scripts/run")


def test_no_server_every_api_fails_with_the_same_message(tmp_path):
    address = f"unix:{tmp_path}/nothing.sock"
    with pprocd.Farm(address) as farm:
        results = farm.Map()
        results.manage("echo")(1)
        with pytest.raises(pprocd.ServerUnavailable, match="cannot reach pprocd at"):
            results[0]
        with pprocd.FarmExecutor(farm=farm) as executor:
            with pytest.raises(pprocd.ServerUnavailable, match="cannot reach pprocd at"):
                executor.submit("echo", 1).result()
        channel = farm.start("countdown")
        with pytest.raises(pprocd.ServerUnavailable, match="cannot reach pprocd at"):
            channel.receive()


def test_uncaught_no_server_error_has_no_grpc_stack(tmp_path):
    program = ("import pprocd\n"
               f"pprocd.Farm('unix:{tmp_path}/nothing.sock').pmap('echo', [1])\n")
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("pprocd._errors.ServerUnavailable: cannot reach pprocd at unix:")
    assert "_InactiveRpcError" not in run.stderr
    assert "During handling" not in run.stderr
