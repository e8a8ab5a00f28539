#!/usr/bin/env python3
"""Your own callables: command callables declared in a config file, side by
side with their peers. The script writes a temporary config and a no-op
module, starts its own server on a UNIX socket in a temp dir (W workers),
runs every side, and stops the server.

Persistent Python function (the worker runtime, ``python -m pprocd.worker``):
  pprocd:  farm.pmap("py_noop", range(N), chunksize=C)   py_noop is
           argv = [<this python>, "-m", "pprocd.worker", "<module>:noop"],
           mode = "persistent"
  map:     multiprocessing.Pool(W).map(noop, range(N))  (default chunksize)
  pipe:    (diagnostic, no server) one runtime process driven directly over
           its pipes, one JSON request line written and its response line
           read per item: the runtime's own round trip in the one-request
           protocol (pprocd's workers send it batches)

Per-invocation command (a new process per item):
  pprocd:  farm.pmap("true_cmd", range(M))   true_cmd is argv = ["true"],
           output = "bytes" (each result b"")
  exec_w:  fork_exec_loop --inflight W -- true   (C; the named peer)
  exec_1:  fork_exec_loop --inflight 1 -- true   (C; for reference)
  subprocess: subprocess.run(["true"]) M times in this process (reference)

The sides alternate --repeat times; medians count.

  bench_callables.py --pprocd PATH --fork-exec-loop PATH [--workers W]
                     [--items N] [--cmd-items M] [--chunksize C] [--repeat R]

Machine lines, one per side:
  BENCH bench=py_callable side=pprocd|map|pipe items=N workers=W seconds=S items_per_sec=R ok=1
  BENCH bench=cmd_callable side=pprocd|exec_w|exec_1|subprocess items=M workers=W seconds=S us_per_item=U ok=1
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from common import bench_line, fork_context, import_client, median, noop, on_sigterm_kill_children

NOOP_MODULE = '''\
def noop(x=None):
    """Returns its argument."""
    return x
'''


def write_config(tmp, workers):
    with open(os.path.join(tmp, "bench_noop.py"), "w") as f:
        f.write(NOOP_MODULE)
    config = f"""\
[server]
workers = {workers}

[[callable]]
name = "py_noop"
description = "Returns its argument (Python worker runtime)"
argv = [{json.dumps(sys.executable)}, "-m", "pprocd.worker", "bench_noop:noop"]
working_dir = "."
mode = "persistent"

[[callable]]
name = "true_cmd"
description = "Runs true, a new process per item"
argv = ["true"]
output = "bytes"
"""
    path = os.path.join(tmp, "pprocd.toml")
    with open(path, "w") as f:
        f.write(config)
    return path


def start_server(binary, config, tmp, workers):
    sock = os.path.join(tmp, "pprocd.sock")
    state = os.path.join(tmp, "state")
    os.makedirs(state, exist_ok=True)
    log_path = os.path.join(tmp, "pprocd.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([binary, "--config", config, "--listen", "unix:" + sock,
                             "--workers", str(workers), "--state-dir", state],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    for _ in range(300):
        with open(log_path, "rb") as f:
            if b"pprocd ready on" in f.read():
                return proc, "unix:" + sock
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    with open(log_path, "rb") as f:
        sys.stderr.write(f.read().decode(errors="replace")[-2000:])
    proc.kill()
    sys.exit("pprocd did not become ready")


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def check(res, n):
    return len(res) == n and all(v == i for i, v in enumerate(res))


def timed(fn):
    t0 = time.perf_counter()
    good = fn()
    return time.perf_counter() - t0, good


def pipe_round_trips(tmp, n):
    """One runtime process, one request line in and one response line out at
    a time: what a single item costs the runtime and the pipes."""
    p = subprocess.Popen([sys.executable, "-m", "pprocd.worker", "bench_noop:noop"], cwd=tmp,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        def one(i):
            p.stdin.write(b'{"id": %d, "args": %d}\n' % (i, i))
            p.stdin.flush()
            return json.loads(p.stdout.readline())["result"] == i
        one(0)  # started and imported
        t0 = time.perf_counter()
        good = all([one(i) for i in range(n)])
        return time.perf_counter() - t0, good
    finally:
        p.stdin.close()
        p.wait()


def fork_exec_loop(path, n, inflight):
    p = subprocess.run([path, "--count", str(n), "--inflight", str(inflight), "--warmup", "100",
                        "--", "true"], capture_output=True, text=True, check=False)
    for line in p.stdout.splitlines():
        if line.startswith("BENCH "):
            fields = dict(kv.split("=", 1) for kv in line.split()[1:])
            return float(fields["seconds"]), p.returncode == 0 and fields.get("ok") == "1"
    sys.stderr.write(p.stdout + p.stderr)
    return float("nan"), False


def subprocess_loop(n):
    true = shutil.which("true")
    ok = True
    for _ in range(n):
        ok &= subprocess.run([true], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL).returncode == 0
    return ok


def main():
    on_sigterm_kill_children()
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pprocd", required=True, help="path of the pprocd server binary")
    ap.add_argument("--fork-exec-loop", required=True, help="path of the fork_exec_loop binary")
    ap.add_argument("--workers", type=int, default=2, help="W: server workers = peer pool size")
    ap.add_argument("--items", type=int, default=20000, help="N, Python function items")
    ap.add_argument("--cmd-items", type=int, default=2000, help="M, per-invocation items")
    ap.add_argument("--chunksize", type=int, default=0,
                    help="CallOptions.chunksize of the py_noop Map (0 = automatic)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the median counts")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (server log)")
    args = ap.parse_args()
    w, n, m = args.workers, args.items, args.cmd_items

    tmp = tempfile.mkdtemp(prefix="pprocd-callables.")
    config = write_config(tmp, w)
    py = {"pprocd": [], "map": [], "pipe": []}
    cmd = {"pprocd": [], "exec_w": [], "exec_1": [], "subprocess": []}
    ok = {("py", s): True for s in py}
    ok.update({("cmd", s): True for s in cmd})
    pool = farm = server = None
    try:
        # The peer's pool first: forked before gRPC starts threads here.
        pool = fork_context().Pool(w)
        pool.map(noop, range(w * 4))
        server, address = start_server(args.pprocd, config, tmp, w)
        pprocd = import_client()
        farm = pprocd.Farm(address)
        # Warm-up: every worker has started its runtime.
        list(farm.pmap("py_noop", range(200), chunksize=args.chunksize))
        list(farm.pmap("true_cmd", range(50)))
        for r in range(max(1, args.repeat)):
            for side in py:
                if side == "pprocd":
                    dt, good = timed(lambda: check(
                        list(farm.pmap("py_noop", range(n), chunksize=args.chunksize)), n))
                elif side == "map":
                    dt, good = timed(lambda: check(pool.map(noop, range(n)), n))
                else:
                    dt, good = pipe_round_trips(tmp, n)
                py[side].append(dt)
                ok[("py", side)] &= good
                print(f"round {r + 1}: py  {side:10s} {n} items in {dt:.3f} s = "
                      f"{n / dt:,.0f} items/s" + ("" if good else "  ** FAILED **"), flush=True)
            for side in cmd:
                if side == "pprocd":
                    dt, good = timed(lambda: list(farm.pmap("true_cmd", range(m))) == [b""] * m)
                elif side == "exec_w":
                    dt, good = fork_exec_loop(args.fork_exec_loop, m, w)
                elif side == "exec_1":
                    dt, good = fork_exec_loop(args.fork_exec_loop, m, 1)
                else:
                    dt, good = timed(lambda: subprocess_loop(m))
                cmd[side].append(dt)
                ok[("cmd", side)] &= good
                print(f"round {r + 1}: cmd {side:10s} {m} programs in {dt:.3f} s = "
                      f"{dt / m * 1e6:,.0f} us each" + ("" if good else "  ** FAILED **"),
                      flush=True)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if farm is not None and hasattr(farm, "close"):
            farm.close()
        if server is not None:
            stop_server(server)
        if args.keep_tmp:
            print(f"(kept {tmp})", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    for side, ts in py.items():
        dt = median(ts)
        bench_line(bench="py_callable", side=side, items=n, workers=w, chunksize=args.chunksize,
                   seconds=dt, items_per_sec=n / dt if dt > 0 else 0.0,
                   runs=",".join(f"{t:.3f}" for t in ts), ok=ok[("py", side)])
    for side, ts in cmd.items():
        dt = median(ts)
        bench_line(bench="cmd_callable", side=side, items=m, workers=w, seconds=dt,
                   us_per_item=dt / m * 1e6, runs=",".join(f"{t:.3f}" for t in ts),
                   ok=ok[("cmd", side)])
    return 0 if all(ok.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
