#!/usr/bin/env python3
"""Map throughput from the Python client, side by side with its peers.

  pprocd:    farm.pmap("echo", range(N))  (the Python client, a real server)
  peer imap: multiprocessing.Pool(W).imap(noop, range(N), chunksize=100)
  peer map:  multiprocessing.Pool(W).map(noop, range(N))  (default chunksize)

The three run one after another, --repeat times (A/B/C, A/B/C, ...), and the
median of each counts. Each timed run ends when the caller holds every result
(a list of N values); results are checked after timing. Pools are started
and warmed up before timing, as pprocd's pool is.

  bench_map.py --address unix:SOCK [--items N] [--workers W] [--repeat R]

Prints human lines and one machine line per side:
  BENCH bench=py_map side=pprocd|imap100|map items=N workers=W seconds=S items_per_sec=R ok=1
"""

import argparse
import os
import sys
import time

from common import bench_line, fork_context, import_client, median, noop, on_sigterm_kill_children


def check(res, n):
    return len(res) == n and all(v == i for i, v in enumerate(res))


def run_pprocd(farm, n):
    t0 = time.perf_counter()
    res = list(farm.pmap("echo", range(n)))
    return time.perf_counter() - t0, check(res, n)


def run_imap(pool, n):
    t0 = time.perf_counter()
    res = list(pool.imap(noop, range(n), chunksize=100))
    return time.perf_counter() - t0, check(res, n)


def run_map(pool, n):
    t0 = time.perf_counter()
    res = pool.map(noop, range(n))
    return time.perf_counter() - t0, check(res, n)


def main():
    on_sigterm_kill_children()
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", default=os.environ.get("PPROCD_ADDRESS"),
                    help="pprocd address (default $PPROCD_ADDRESS)")
    ap.add_argument("--items", type=float, default=1_000_000, help="items N")
    ap.add_argument("--workers", type=int, default=2, help="peer pool size W (= pprocd workers)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the median counts")
    ap.add_argument("--only", choices=["pprocd", "imap100", "map"], action="append",
                    help="run only this side (repeatable)")
    args = ap.parse_args()
    n = int(args.items)
    sides = args.only or ["pprocd", "imap100", "map"]

    times = {s: [] for s in sides}
    ok = {s: True for s in sides}
    farm = pool = None
    try:
        # The peer's pool first: its workers are forked before gRPC starts
        # threads in this process (forking a process with live gRPC threads
        # can leave the children stuck on locks).
        if "imap100" in sides or "map" in sides:
            pool = fork_context().Pool(args.workers)
            pool.map(noop, range(args.workers * 4))  # warm-up: every worker is up
        if "pprocd" in sides:
            pprocd = import_client()
            farm = pprocd.Farm(args.address)
            list(farm.pmap("echo", range(1000)))  # warm-up: channel and workers up
        for r in range(max(1, args.repeat)):
            for side in sides:
                if side == "pprocd":
                    dt, good = run_pprocd(farm, n)
                elif side == "imap100":
                    dt, good = run_imap(pool, n)
                else:
                    dt, good = run_map(pool, n)
                times[side].append(dt)
                ok[side] &= good
                print(f"round {r + 1}: {side:8s} {n} items in {dt:.3f} s = {n / dt:,.0f} items/s"
                      + ("" if good else "  ** WRONG RESULTS **"), flush=True)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if farm is not None and hasattr(farm, "close"):
            farm.close()

    for side in sides:
        dt = median(times[side])
        runs = ",".join(f"{t:.3f}" for t in times[side])
        bench_line(bench="py_map", side=side, items=n, workers=args.workers, seconds=dt,
                   items_per_sec=n / dt if dt > 0 else 0.0, runs=runs, ok=ok[side])
    return 0 if all(ok.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
