"""Fixtures: a real pprocd server on a UNIX socket in a temporary directory.

The server binary comes from $PPROCD_BINARY (ctest sets it); without it the
tests that need a server are skipped with a message saying so.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, Dict, Iterator, List, Optional

import pytest

# Test the package of this checkout, whatever else the environment has.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "src"))

import pprocd  # noqa: E402

BINARY_ENV = "PPROCD_BINARY"
WORKERS = 4
# Bounds for waits on events that happen at once on a healthy machine; only a
# hang reaches them.
STARTUP_LIMIT_S = 60.0
EVENT_LIMIT_S = 60.0


def _die_with_tests_prefix() -> List[str]:
    """A command prefix that makes the kernel SIGKILL the command when the
    thread that started it ends (PR_SET_PDEATHSIG): util-linux setpriv, when
    it has --pdeathsig. (preexec_fn could do it, but is unsafe with threads.)
    Start servers from pytest's own thread, which lives as long as the tests."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return []
    usage = subprocess.run([setpriv, "--help"], capture_output=True, text=True, check=False)
    return [setpriv, "--pdeathsig", "KILL", "--"] if "--pdeathsig" in usage.stdout else []


_DIE_WITH_TESTS = _die_with_tests_prefix()


class ServerProcess:
    """A pprocd process serving unix:<tmp>/run/pprocd.sock until stop().
    Nothing it starts outlives the tests: it runs in a session and process
    group of its own, which stop() kills whole, and dies with this process."""

    def __init__(self, binary: str, workers: int = WORKERS, extra_args: List[str] = (),
                 env: Optional[Dict[str, str]] = None, address_env: bool = False) -> None:
        """``address_env``: the server's environment has $PPROCD_ADDRESS set
        to its own address (what its workers use to reach it)."""
        self.dir = tempfile.mkdtemp(prefix="pprocd-py-")
        self.socket_path = os.path.join(self.dir, "run", "pprocd.sock")
        self.address = "unix:" + self.socket_path
        if address_env:
            env = dict(os.environ if env is None else env, PPROCD_ADDRESS=self.address)
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.lines: List[str] = []
        ready = threading.Event()
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [*_DIE_WITH_TESTS, binary, "--listen", self.address, "--workers", str(workers),
                 "--state-dir", os.path.join(self.dir, "var"), *extra_args],
                stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, text=True,
                env=env, start_new_session=True)

        def read_stdout() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))
                if "pprocd ready on" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=read_stdout, daemon=True).start()
        ready.wait(STARTUP_LIMIT_S)
        if not any("pprocd ready on" in line for line in self.lines):
            self.stop()
            raise RuntimeError(f"pprocd did not become ready; stderr:\n{self.stderr()}")

    def stderr(self) -> str:
        try:
            with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # Whatever is left of its group (the template of a killed server).
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def pprocd_binary() -> str:
    binary = os.environ.get(BINARY_ENV, "")
    if not binary:
        pytest.skip(f"${BINARY_ENV} is not set: point it at a built pprocd "
                    "(ctest sets it; e.g. build/server/pprocd)")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"${BINARY_ENV}={binary} is not an executable")
    return binary


class _Servers:
    """The server the tests share, replaced if a test made it die."""

    current: Optional[ServerProcess] = None


@pytest.fixture(scope="session")
def _servers() -> Iterator[_Servers]:
    servers = _Servers()
    yield servers
    if servers.current is not None:
        servers.current.stop()


@pytest.fixture
def server(_servers: _Servers) -> Iterator[ServerProcess]:
    """A pprocd with WORKERS pooled workers, shared by the tests. A test
    during which it dies fails, saying so; the next test gets a new one."""
    if _servers.current is None or _servers.current.process.poll() is not None:
        if _servers.current is not None:
            _servers.current.stop()
        _servers.current = ServerProcess(pprocd_binary())
    process = _servers.current
    yield process
    exit_status = process.process.poll()
    if exit_status is not None:
        pytest.fail(f"pprocd died during this test (exit status {exit_status}); "
                    f"stderr:\n{process.stderr()[-4000:]}")


@pytest.fixture
def farm(server: ServerProcess) -> Iterator[pprocd.Farm]:
    """A Farm connected to the shared server; after the test, the server
    must be idle again (every test cleans up what it started)."""
    with pprocd.Farm(server.address) as connected:
        yield connected
        wait_until(lambda: idle(connected), "the server to be idle after the test")


def no_work(farm: pprocd.Farm) -> bool:
    """True when no item runs or waits and every worker is free."""
    status = farm.status()
    return status.items_running == 0 and status.items_queued == 0 and status.workers_busy == 0


def idle(farm: pprocd.Farm) -> bool:
    """True when, on top of no_work, no call is open."""
    return no_work(farm) and farm.status().calls_active == 0


def wait_until(predicate: Callable[[], bool], what: str,
               limit_s: float = EVENT_LIMIT_S) -> None:
    """Polls ``predicate`` until it holds; fails (naming ``what``) only if it
    never does within a bound that only a hang reaches."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def skip_unless_supported(error: pprocd.FarmError, feature: str) -> None:
    """Skips the test when the server answers that it lacks ``feature``
    (UNIMPLEMENTED, or NOT_FOUND for a callable not registered yet);
    otherwise re-raises."""
    if error.code_name in ("UNIMPLEMENTED", "NOT_FOUND"):
        pytest.skip(f"needs server support for {feature} (the server answers "
                    f"{error.code_name}: {error.details})")
    raise error


def max_overlap(stats: List[Optional[pprocd.Stats]]) -> int:
    """The largest number of invocations that ran at the same moment,
    from the server's own start times and durations."""
    events = []
    for s in stats:
        assert s is not None
        events.append((s.start_unix_us, 1))
        events.append((s.start_unix_us + s.wall_us, -1))
    events.sort(key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


@pytest.fixture
def channels(farm: pprocd.Farm) -> pprocd.Farm:
    """The farm, once the server has shown it runs channel callables over
    Start (skips, saying so, when it answers UNIMPLEMENTED or NOT_FOUND)."""
    probe = farm.start("accumulate")
    probe.close()
    try:
        probe.result()
    except pprocd.FarmError as error:
        skip_unless_supported(error, "Start and channel callables")
    return farm
