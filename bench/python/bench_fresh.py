#!/usr/bin/env python3
"""FRESH invocations per second (every item in a brand-new process), side by
side with a bare fork + _exit + waitpid loop in C (bench/fork_loop.c).

  pprocd: farm.Map(limit=W, reuse=False), "echo" managed and called N times,
          every result read (the server forks each item from its template)
  peer:   fork_loop --count N --inflight 1  (and --inflight W, for reference)

The sides alternate --repeat times; medians count.

  bench_fresh.py --address unix:SOCK --fork-loop PATH [--items N] [--workers W]

Machine lines:
  BENCH bench=py_fresh side=pprocd items=N workers=W seconds=S per_sec=R ok=1
  BENCH bench=py_fresh side=fork_loop|fork_loop_w items=N inflight=P seconds=S per_sec=R ok=1
"""

import argparse
import os
import subprocess
import sys
import time

from common import bench_line, import_client, median, on_sigterm_kill_children


def run_pprocd(farm, n, workers):
    t0 = time.perf_counter()
    results = farm.Map(limit=workers, reuse=False)
    echo = results.manage("echo")
    for i in range(n):
        echo(i)
    res = list(results)
    dt = time.perf_counter() - t0
    return dt, len(res) == n and all(v == i for i, v in enumerate(res))


def run_fork_loop(path, n, inflight):
    p = subprocess.run([path, "--count", str(n), "--inflight", str(inflight), "--warmup", "200"],
                       capture_output=True, text=True, check=False)
    for line in p.stdout.splitlines():
        if line.startswith("BENCH "):
            fields = dict(kv.split("=", 1) for kv in line.split()[1:])
            return float(fields["seconds"]), p.returncode == 0 and fields.get("ok") == "1"
    sys.stderr.write(p.stdout + p.stderr)
    return float("nan"), False


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", default=os.environ.get("PPROCD_ADDRESS"),
                    help="pprocd address (default $PPROCD_ADDRESS)")
    ap.add_argument("--fork-loop", required=True, help="path of the fork_loop binary")
    ap.add_argument("--items", type=int, default=5000, help="items / processes N")
    ap.add_argument("--workers", type=int, default=2, help="W: the Map's limit")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the median counts")
    args = ap.parse_args()
    on_sigterm_kill_children()
    pprocd = import_client()
    n = args.items

    farm = pprocd.Farm(args.address)
    run_pprocd(farm, min(n, 200), args.workers)  # warm-up
    sides = {"pprocd": [], "fork_loop": [], "fork_loop_w": []}
    ok = {s: True for s in sides}
    for r in range(max(1, args.repeat)):
        for side in sides:
            if side == "pprocd":
                dt, good = run_pprocd(farm, n, args.workers)
            else:
                dt, good = run_fork_loop(args.fork_loop, n,
                                         1 if side == "fork_loop" else args.workers)
            sides[side].append(dt)
            ok[side] &= good
            print(f"round {r + 1}: {side:11s} {n} processes in {dt:.3f} s = {n / dt:,.0f}/s"
                  + ("" if good else "  ** FAILED **"), flush=True)
    if hasattr(farm, "close"):
        farm.close()

    for side, ts in sides.items():
        dt = median(ts)
        fields = dict(bench="py_fresh", side=side, items=n)
        if side == "pprocd":
            fields["workers"] = args.workers
        else:
            fields["inflight"] = 1 if side == "fork_loop" else args.workers
        bench_line(**fields, seconds=dt, per_sec=n / dt if dt > 0 else 0.0,
                   runs=",".join(f"{t:.3f}" for t in ts), ok=ok[side])
    return 0 if all(ok.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
