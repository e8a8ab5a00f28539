#!/usr/bin/env python3
"""The newcomer's path, as README.md tells it, run for real.

Copies the README's marked snippets out of README.md (an HTML comment
``<!-- newcomer: NAME -->`` right before a fenced block), so that the README
cannot drift from what is tested, and runs them as a new user would:

* ``scripts/run`` serves on the per-user socket ($XDG_RUNTIME_DIR and
  $XDG_STATE_HOME point into a temporary directory; no address is given
  anywhere, so every client finds the server by the default search order).
  With the build up to date, it says so and prints no build steps; a first
  build (one small target in a new build directory) says what it builds
  and shows the build tool's progress.
* The one-minute tour (grpcurl, pproc) runs twice from the repository's
  root; each command exits as its comment says (0 unless "exit status N").
* Each language's example (Python, Go, Node/TypeScript, C++) is written to
  a new directory outside the repository, set up with the README's
  commands (PATH/TO/pprocd replaced by a checkout, /opt/pprocd by a
  temporary prefix) and run twice in a row. Its output must be what the
  snippet's ``prints:`` comments say, one comment per line of output, in
  order (``...`` in a comment matches any text).

Offline: Go from the module cache and npm from its cache, both filled by
scripts/setup. Everything this starts runs in process groups of its own
that die with it (PR_SET_PDEATHSIG) and are killed when it ends.

Usage: run_newcomer.py --source-dir DIR --build-dir DIR
"""

from __future__ import annotations

import argparse
import ctypes
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List, Optional

MARKER = re.compile(r"<!-- newcomer: ([a-z-]+) -->[ \t]*\n```[a-z]*\n(.*?)^```", re.S | re.M)
PRINTS = re.compile(r"(?:#|//) prints: (.*?)\s*$", re.M)
CHECKOUT_PLACEHOLDER = "PATH/TO/pprocd"
# The marked blocks every run needs: a missing mark fails the test.
REQUIRED = ["tour", "python", "python-run", "go-setup", "go", "go-run", "node-setup", "node",
            "node-run", "cpp-setup", "cpp-cmake", "cpp", "cpp-run"]
# Each language's example: its file, and the other files its project has
# (by the block's name).
EXAMPLES = [("python", "example.py", {}), ("go", "main.go", {}), ("node", "example.ts", {}),
            ("cpp", "main.cc", {"cpp-cmake": "CMakeLists.txt"})]
# The README installs the C++ package there; the test, in its own directory.
INSTALL_PREFIX = "/opt/pprocd"

_PR_SET_PDEATHSIG = 1


def die_with_test() -> None:
    """In a child before exec: SIGKILL when the test ends, however it ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Failure(Exception):
    """A step of the newcomer's path did not do what the README says."""


def snippets(readme: str) -> Dict[str, str]:
    """The README's marked blocks by name; each name at most once."""
    found: Dict[str, str] = {}
    for match in MARKER.finditer(readme):
        name, code = match.group(1), match.group(2)
        if name in found:
            raise Failure(f"README.md marks two blocks as newcomer: {name}")
        found[name] = code
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise Failure(f"README.md has no block marked <!-- newcomer: NAME --> for {missing}")
    return found


def line_pattern(expected: str) -> "re.Pattern[str]":
    """A ``prints:`` comment as a pattern of one whole line."""
    return re.compile(".*".join(re.escape(part) for part in expected.split("...")))


def check_output(what: str, code: str, stdout: str) -> None:
    """Raises unless ``stdout`` is, line by line, the snippet's ``prints:``."""
    expected = PRINTS.findall(code)
    if not expected:
        raise Failure(f"{what}: the snippet has no `prints:` comment to check its output by")
    lines = stdout.splitlines()
    bad = len(lines) != len(expected) or any(
        not line_pattern(want).fullmatch(line) for want, line in zip(expected, lines))
    if bad:
        raise Failure(f"{what}: printed\n  " + "\n  ".join(lines) +
                      "\nbut its comments say\n  " + "\n  ".join(expected))


def run(what: str, command: str, cwd: str, env: Dict[str, str], timeout: float) -> str:
    """Runs ``command`` with bash -e in ``cwd``; returns its stdout. The
    whole process group is killed on a timeout."""
    started = time.monotonic()
    process = subprocess.Popen(["bash", "-e", "-o", "pipefail", "-c", command], cwd=cwd, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=die_with_test)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        raise Failure(f"{what}: still running after {timeout:.0f} s\n{stdout}{stderr}")
    finally:
        kill_group(process.pid)
    print(f"newcomer: {what}: {time.monotonic() - started:.1f} s", flush=True)
    if process.returncode != 0:
        raise Failure(f"{what}: exit status {process.returncode}\n$ {command}\n{stdout}{stderr}")
    return stdout


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Server:
    """``scripts/run`` as a newcomer starts it, in the foreground; its
    output is read by a thread so that it never blocks on a full pipe."""

    def __init__(self, source_dir: str, build_dir: str, env: Dict[str, str]) -> None:
        run_env = dict(env, PPROCD_BUILD_DIR=build_dir, PPROCD_TARGETS="pprocd pproc",
                       PPROCD_HTTP="127.0.0.1:0")
        self.process = subprocess.Popen([os.path.join(source_dir, "scripts/run"), "--workers", "2"],
                                        cwd=source_dir, env=run_env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True, preexec_fn=die_with_test)
        self.lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self.output: List[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_ready(self, timeout: float) -> str:
        """The lines scripts/run printed up to and including "pprocd ready on"."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise Failure(f"scripts/run: not ready after {timeout:.0f} s:\n" +
                              "\n".join(self.output))
            if line is None:
                raise Failure("scripts/run ended before pprocd was ready:\n" +
                              "\n".join(self.output))
            self.output.append(line)
            if line.startswith("pprocd ready on "):
                return "\n".join(self.output)

    def stop(self) -> None:
        """SIGTERM (the server drains and reaps its workers), then SIGKILL
        of whatever is left in its process group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.process.pid)
        self.process.wait()


def test_environment(work: str, source_dir: str) -> Dict[str, str]:
    """The environment of a user on this machine, with the per-user
    directories in ``work`` and no address: the default search order."""
    env = dict(os.environ)
    env.pop("PPROCD_ADDRESS", None)
    runtime = os.path.join(work, "run")
    os.mkdir(runtime, 0o700)
    env["XDG_RUNTIME_DIR"] = runtime
    env["XDG_STATE_HOME"] = os.path.join(work, "state")
    # The client packages of the checkout under test: the Python one as
    # `pip install clients/python` would (scripts/setup's .tools/venv has
    # its dependencies), Go and Node from the README's commands.
    venv_bin = os.path.join(source_dir, ".tools/venv/bin")
    path = [venv_bin] + env.get("PATH", "").split(os.pathsep)
    go_home = "/usr/local/go/bin"  # where scripts/setup looks too
    if not shutil.which("go", path=os.pathsep.join(path)) and os.path.isdir(go_home):
        path.append(go_home)
    env["PATH"] = os.pathsep.join(path)
    env["PYTHONPATH"] = os.path.join(source_dir, "clients/python/src")
    # Offline: Go from the module cache, npm from its cache (scripts/setup
    # fills both). -mod=mod would hide a go.sum the README's steps leave
    # incomplete.
    env.update(GOPROXY="off", GOSUMDB="off", GOTOOLCHAIN="local")
    env["GOFLAGS"] = " ".join(flag for flag in env.get("GOFLAGS", "").split()
                              if not flag.startswith("-mod="))
    env.update(npm_config_offline="true", npm_config_audit="false", npm_config_fund="false",
               npm_config_update_notifier="false")
    return env


def make_checkout(work: str, source_dir: str, build_dir: str) -> str:
    """A checkout for the README's PATH/TO/pprocd: its build (build/) and
    the Go client as they are (only read), the Node client copied without its node_modules and dist,
    as a fresh clone has it (the README's `npm ci && npm run build` writes
    there, and the Node client's own test uses the repository's copy)."""
    checkout = os.path.join(work, "pprocd")
    os.makedirs(os.path.join(checkout, "clients"))
    os.symlink(build_dir, os.path.join(checkout, "build"))
    os.symlink(os.path.join(source_dir, "clients/go"), os.path.join(checkout, "clients/go"))
    shutil.copytree(os.path.join(source_dir, "clients/node"),
                    os.path.join(checkout, "clients/node"),
                    ignore=shutil.ignore_patterns("node_modules", "dist"))
    return checkout


def run_example(language: str, filename: str, other_files: Dict[str, str],
                blocks: Dict[str, str], work: str, env: Dict[str, str]) -> None:
    """Sets up a new project for ``language`` in ``work`` as the README
    says, writes its files there and runs it twice: the run block's last
    line is the example, whose output is checked; the lines before it
    build it."""
    project = os.path.join(work, language)
    os.mkdir(project)
    setup = blocks.get(f"{language}-setup")
    if setup is not None:
        run(f"{language}: setup", setup, project, env, 300)
    code = blocks[language]
    for block, name in list(other_files.items()) + [(language, filename)]:
        with open(os.path.join(project, name), "w") as out:
            out.write(blocks[block])
    *build, example = blocks[f"{language}-run"].strip().splitlines()
    for attempt in ("first", "second"):
        if build:
            run(f"{language}: build, {attempt} run", "\n".join(build), project, env, 300)
        stdout = run(f"{language}: {attempt} run", example, project, env, 120)
        check_output(f"{language} example, {attempt} run", code, stdout)


def run_tour(code: str, source_dir: str, build_dir: str, env: Dict[str, str]) -> None:
    """The one-minute tour's commands from the repository's root, in one
    shell (it keeps their variables): each must exit with the status its
    comment names ("exit status N"), else 0."""
    code = code.replace("$PWD/build/", build_dir + "/")
    commands = re.sub(r"\\\n\s*", " ", code).splitlines()
    commands = [command for command in commands if command.strip()]
    script = []
    for number, command in enumerate(commands):
        # The command's own comment ends at the newline before the brace.
        script.append(f"{{ {command}\n}} </dev/null; echo \"newcomer-status {number} $?\"")
    stdout = run("tour", "set +e\n" + "\n".join(script), source_dir, env, 120)
    statuses = dict(re.findall(r"^newcomer-status (\d+) (\d+)$", stdout, re.M))
    for number, command in enumerate(commands):
        said = re.search(r"\(exit status (\d+)", command)
        want = said.group(1) if said else "0"
        if statuses.get(str(number)) != want:
            raise Failure(f"tour: `{command}` exited with {statuses.get(str(number))}, not {want}:"
                          f"\n{stdout}")


def check_first_build(source_dir: str, work: str, env: Dict[str, str]) -> None:
    """What scripts/run shows of a first build (scripts/build with
    PPROCD_BUILD_PROGRESS=1), on one small target in a new build
    directory: what it does and the build tool's progress lines, not
    silence; then, run again, only that the build is up to date."""
    build_dir = os.path.join(work, "first-build")
    command = f"PPROCD_BUILD_PROGRESS=1 PPROCD_TARGETS=pprocd_json scripts/build {build_dir}"
    said = run("first build", command, source_dir, env, 300)
    for want in (f"build: configuring {build_dir}/", f"build: building {build_dir}/",
                 "[1/", f"build: {build_dir}/ is built"):
        if want not in said:
            raise Failure(f"a first build did not show {want!r}:\n{said}")
    said = run("second build", command, source_dir, env, 120)
    if said.strip() != f"build: {build_dir}/ is up to date":
        raise Failure(f"an up-to-date build should say so, and no more:\n{said}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--build-dir", required=True)
    args = parser.parse_args()
    source_dir = os.path.abspath(args.source_dir)
    build_dir = os.path.abspath(args.build_dir)
    with open(os.path.join(source_dir, "README.md")) as readme:
        blocks = snippets(readme.read())

    # SIGTERM ends the run as an exception would: what it started is stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    work = tempfile.mkdtemp(prefix="pprocd-newcomer-")
    server: Optional[Server] = None
    try:
        env = test_environment(work, source_dir)
        checkout = make_checkout(work, source_dir, build_dir)
        started = time.monotonic()
        server = Server(source_dir, build_dir, env)
        said = server.wait_ready(180)
        print(f"newcomer: scripts/run ready in {time.monotonic() - started:.1f} s", flush=True)
        socket = os.path.join(env["XDG_RUNTIME_DIR"], "pprocd", "pprocd.sock")
        if f"pprocd ready on unix:{socket}" not in said:
            raise Failure(f"scripts/run did not serve on the per-user socket {socket}:\n{said}")
        if "is up to date" not in said or re.search(r"^\[\d+/\d+\]", said, re.M):
            raise Failure(f"scripts/run with an up-to-date build should say so, and no more:"
                          f"\n{said}")
        for attempt in ("first", "second"):
            print(f"newcomer: tour, {attempt} run", flush=True)
            run_tour(blocks["tour"], source_dir, build_dir, env)
        # The README's placeholders: a checkout (with the build in build/)
        # and the C++ package's prefix.
        prefix = os.path.join(work, "prefix")
        blocks = {name: code.replace(CHECKOUT_PLACEHOLDER, checkout).replace(INSTALL_PREFIX, prefix)
                  for name, code in blocks.items()}
        for language, filename, other_files in EXAMPLES:
            run_example(language, filename, other_files, blocks, work, env)
        check_first_build(source_dir, work, env)
    except Failure as failure:
        print(f"newcomer: FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("newcomer: every example ran twice and printed what the README says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
