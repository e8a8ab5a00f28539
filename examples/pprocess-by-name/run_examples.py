#!/usr/bin/env python3
"""Runs every example program against a real pprocd and checks its grid.

Starts `pprocd --listen unix:<temp dir>/pprocd.sock --workers W`, runs each
sequential reference and each parallel program of this directory with
`--delay 0` (and some again with a small nonzero delay or with --limit 1),
and compares every parallel program's stdout, byte for byte, with the output
of its sequential reference. The background programs also run across two
processes: `--start` (which starts the jobs and exits, printing nothing on
stdout), then `--reconnect` in a new process, whose grid must be the
reference's too. Programs run in a temporary directory (where the
background programs' socket files go), with this checkout's client first
on PYTHONPATH. Stops the server (SIGTERM) at the end, whatever happened.

  run_examples.py --pprocd PATH [--workers 2] [--python PY] [--only NAME ...]

The programs need an interpreter that imports the pprocd client (--python;
by default the .tools/venv that scripts/setup-python makes).

A program that fails because the server answers UNIMPLEMENTED (a feature
that is not built yet) is reported as skipped, with the server's message,
never as passed. Exit status: 0 all passed, 1 any failure, 77 nothing failed
but something was skipped (ctest's SKIP_RETURN_CODE). The last line is
"N passed, N failed, N skipped".
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# scripts/setup-python installs the client in this environment.
VENV_PYTHON = os.path.join(ROOT, ".tools", "venv", "bin", "python")
# The client of this checkout, ahead of any installed one.
CLIENT_SRC = os.path.join(ROOT, "clients", "python", "src")

# Sequential references: every one prints the same grid.
REFERENCES = ["simple_map", "simple1", "simple2", "two_way_sequential"]

# (parallel program, its sequential reference, extra arguments)
PROGRAMS = [
    ("simple_pmap", "simple_map", []),
    ("simple_managed_map", "simple1", []),
    ("simple_managed_map_reusable", "simple1", []),
    ("simple_managed_queue", "simple2", []),
    ("simple_managed", "simple2", []),
    ("simple_start", "simple2", []),
    ("simple_start_queue", "simple2", []),
    ("simple_continuous_queue", "simple2", []),
    ("two_way", "two_way_sequential", []),
    ("start_loop", "simple1", []),
    ("simple_background_queue", "simple2", []),
    ("simple_persistent_queue", "simple2", []),
]

# Programs run again with other arguments. A small nonzero delay: the
# server's callables really sleep, so results arrive out of order and the
# programs' ordering is exercised (100 cells x 20 ms over 2 workers is about
# 1 s). --limit 1: one calculation, or one open channel, at a time.
EXTRA_RUNS = [("simple_managed_queue", ["--delay", "0.02"]),
              ("simple_continuous_queue", ["--delay", "0.02"]),
              ("simple_managed_map", ["--delay", "0.02"]),
              ("simple_managed_queue", ["--delay", "0", "--limit", "1"]),
              ("two_way", ["--delay", "0", "--limit", "1"]),
              ("start_loop", ["--delay", "0", "--limit", "1"])]

# Background programs run as two processes: "--start" (which exits at once,
# leaving the jobs to the server), then "--reconnect", which prints the grid.
# With a nonzero delay the jobs are still running when the first exits.
TWO_PROCESS_RUNS = [("simple_background_queue", ["--delay", "0.02"]),
                    ("simple_persistent_queue", ["--delay", "0.02"]),
                    ("simple_background_queue", ["--delay", "0"])]

PROGRAM_TIMEOUT_S = 90


def log(*words):
    print(*words, flush=True)


def start_server(pprocd, workers, tmp):
    sock = os.path.join(tmp, "pprocd.sock")
    state = os.path.join(tmp, "state")
    os.makedirs(state, exist_ok=True)
    logf = open(os.path.join(tmp, "pprocd.log"), "wb")
    proc = subprocess.Popen([pprocd, "--listen", "unix:" + sock, "--workers", str(workers),
                             "--state-dir", state],
                            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open(logf.name, "rb") as f:
            if b"pprocd ready on" in f.read():
                return proc, "unix:" + sock, logf.name
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop_server(proc)
    with open(logf.name, "rb") as f:
        sys.stdout.write(f.read().decode(errors="replace")[-4000:])
    raise SystemExit("run_examples: pprocd did not become ready")


def stop_server(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_program(python, name, args, env, cwd=None):
    cmd = [python, os.path.join(HERE, name + ".py")] + args
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                           timeout=PROGRAM_TIMEOUT_S, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        return None, (e.stderr or b"").decode(errors="replace") + \
            f"\n(timed out after {PROGRAM_TIMEOUT_S} s)", time.monotonic() - t0
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0:
        return None, err + f"\n(exit status {p.returncode})", time.monotonic() - t0
    return out, err, time.monotonic() - t0


def unimplemented_reason(stderr):
    """The server's UNIMPLEMENTED message in a program's stderr, if any."""
    for line in stderr.splitlines():
        if "UNIMPLEMENTED" in line:
            return line.strip()
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pprocd", required=True, help="the server binary")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--python", default=None,
                    help="interpreter for the programs, which import the pprocd client "
                         "(default: the repository's .tools/venv made by scripts/setup-python "
                         "if it exists, else this interpreter)")
    ap.add_argument("--only", nargs="*", help="run only these parallel programs")
    args = ap.parse_args()
    if args.python is None:
        args.python = VENV_PYTHON if os.access(VENV_PYTHON, os.X_OK) else sys.executable
    log(f"programs run with {args.python}")

    passed, failed, skipped = [], [], []

    # The sequential references: run without a server, all print one grid.
    ref_out = {}
    for ref in REFERENCES:
        out, err, dt = run_program(args.python, ref, ["--delay", "0"], os.environ.copy())
        if out is None:
            log(f"FAIL {ref} (sequential reference): {err.strip()[-2000:]}")
            failed.append(ref)
            continue
        ref_out[ref] = out
        log(f"ok   {ref} (sequential reference, {dt:.2f} s)")
    grids = set(ref_out.values())
    if len(grids) != 1:
        log("FAIL the sequential references disagree")
        failed.append("references")
    else:
        passed.append("references")
        lines = next(iter(grids)).splitlines()
        if len(lines) != 10 or any(len(line.split()) != 10 for line in lines):
            log("FAIL the reference grid is not 10 x 10")
            failed.append("grid shape")

    runs = [(name, ref, extra + ["--delay", "0"]) for name, ref, extra in PROGRAMS]
    extra_of = {name: extra for name, _, extra in PROGRAMS}
    ref_of = {name: ref for name, ref, _ in PROGRAMS}
    runs += [(name, ref_of[name], extra_of[name] + more) for name, more in EXTRA_RUNS]
    two_process = list(TWO_PROCESS_RUNS)
    if args.only:
        runs = [r for r in runs if r[0] in args.only]
        two_process = [r for r in two_process if r[0] in args.only]

    with tempfile.TemporaryDirectory(prefix="pprocd-examples.") as tmp:
        server, address, server_log = start_server(args.pprocd, args.workers, tmp)
        try:
            env = os.environ.copy()
            env.pop("PPROCD_ADDRESS", None)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (CLIENT_SRC, env.get("PYTHONPATH"))
                                                if p)
            work = os.path.join(tmp, "work")
            os.makedirs(work)
            for name, ref, prog_args in runs:
                label = f"{name} {' '.join(prog_args)}"
                out, err, dt = run_program(args.python, name,
                                           prog_args + ["--address", address], env, work)
                if out is None:
                    reason = unimplemented_reason(err)
                    if reason:
                        log(f"SKIP {label}: the server does not implement it yet: {reason}")
                        skipped.append(label)
                    else:
                        log(f"FAIL {label}:\n{err.strip()[-3000:]}")
                        failed.append(label)
                    continue
                expected = ref_out.get(ref)
                if expected is None:
                    log(f"FAIL {label}: no reference output ({ref} failed)")
                    failed.append(label)
                elif out != expected:
                    log(f"FAIL {label}: grid differs from {ref}'s\n--- expected\n{expected}"
                        f"--- got\n{out}--- stderr\n{err.strip()[-2000:]}")
                    failed.append(label)
                else:
                    log(f"ok   {label} ({dt:.2f} s, same grid as {ref})")
                    passed.append(label)
            for name, prog_args in two_process:
                label = f"{name} {' '.join(prog_args)} --start, then --reconnect"
                start_out, err, dt = run_program(
                    args.python, name, prog_args + ["--start", "--address", address], env, work)
                if start_out is None or start_out:
                    what = err.strip()[-3000:] if start_out is None else \
                        f"--start printed on stdout:\n{start_out}"
                    reason = unimplemented_reason(err) if start_out is None else None
                    if reason:
                        log(f"SKIP {label}: the server does not implement it yet: {reason}")
                        skipped.append(label)
                    else:
                        log(f"FAIL {label}: {what}")
                        failed.append(label)
                    continue
                out, err, dt2 = run_program(
                    args.python, name, prog_args + ["--reconnect", "--address", address], env,
                    work)
                expected = ref_out.get(ref_of[name])
                if out is None:
                    log(f"FAIL {label}: --reconnect:\n{err.strip()[-3000:]}")
                    failed.append(label)
                elif out != expected:
                    log(f"FAIL {label}: grid differs from {ref_of[name]}'s\n--- expected\n"
                        f"{expected}--- got\n{out}--- stderr\n{err.strip()[-2000:]}")
                    failed.append(label)
                else:
                    log(f"ok   {label} ({dt:.2f} s + {dt2:.2f} s, same grid as "
                        f"{ref_of[name]})")
                    passed.append(label)
        finally:
            stop_server(server)
            if server.returncode not in (0, None):
                log(f"FAIL pprocd exited with status {server.returncode}")
                with open(server_log, "rb") as f:
                    log(f.read().decode(errors="replace")[-3000:])
                failed.append("server exit")

    log(f"{len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
    if failed:
        return 1
    return 77 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
