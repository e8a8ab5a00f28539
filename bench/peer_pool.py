#!/usr/bin/env python3
"""Peer baseline for the pprocd benchmarks: Python's multiprocessing.Pool.

  echo:  Pool(W).map(echo_fn, range(N)) with the default chunksize; items/s.
  fib:   Pool(W).map(fib, [n] * M) and Pool(1).map(...) (optional, as a
         reference for the fib speedup row); seconds and speedup.

Only the map() call is timed: the pool is started and warmed up first, as
pprocd's pool is before a benchmark. Results are checked after timing.
Standard library only. Prints human lines and machine lines:

  BENCH bench=peer_echo items=... workers=... seconds=... items_per_sec=... ok=1
  BENCH bench=peer_fib n=... items=... workers=... seconds=... ok=1
"""

import argparse
import contextlib
import multiprocessing
import os
import signal
import sys
import time


def echo_fn(x):
    return x


def fib(n):
    return 1 if n <= 1 else fib(n - 1) + fib(n - 2)


def fib_expected(n):
    a, b = 1, 1
    for _ in range(2, n + 1):
        a, b = b, a + b
    return b


@contextlib.contextmanager
def closing_pool(workers):
    """A Pool(workers) closed and joined at the end (Pool's own context
    manager terminates it, which can leave a worker waiting on a lock of
    the pool's queue for ever)."""
    pool = multiprocessing.Pool(workers)
    try:
        yield pool
    finally:
        pool.close()
        pool.join()


def run_echo(items, workers):
    with closing_pool(workers) as pool:
        pool.map(echo_fn, range(workers * 4))  # warm-up: every worker is up
        t0 = time.perf_counter()
        res = pool.map(echo_fn, range(items))
        dt = time.perf_counter() - t0
    ok = len(res) == items and all(v == i for i, v in enumerate(res))
    rate = items / dt if dt > 0 else 0.0
    print(f"Pool({workers}).map(echo_fn, range({items})): {dt:.3f} s = {rate:.0f} items/s"
          + ("" if ok else "  ** FAILED **"))
    print(f"BENCH bench=peer_echo items={items} workers={workers} seconds={dt:.6f} "
          f"items_per_sec={rate:.1f} ok={int(ok)}")
    return ok


def run_fib(n, items, workers, repeat):
    times = []
    ok = True
    with closing_pool(workers) as pool:
        pool.map(echo_fn, range(workers * 4))
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            res = pool.map(fib, [n] * items)
            times.append(time.perf_counter() - t0)
            ok = ok and res == [fib_expected(n)] * items
    dt = min(times)  # the least disturbed run, as bench_fib --repeat does
    runs = ",".join(f"{t:.3f}" for t in times)
    print(f"Pool({workers}).map(fib, [{n}] * {items}): {dt:.3f} s"
          + (f" (best of {runs})" if len(times) > 1 else "")
          + ("" if ok else "  ** FAILED **"))
    print(f"BENCH bench=peer_fib n={n} items={items} workers={workers} seconds={dt:.6f} "
          f"runs={runs} ok={int(ok)}")
    return ok, dt


def main():
    # SIGTERM (bench/run stopping): kill the pool's workers and leave at once
    # (Pool.terminate() can hang while the pool is busy).
    def on_term(*_):
        for child in multiprocessing.active_children():
            child.kill()
        os._exit(143)
    signal.signal(signal.SIGTERM, on_term)
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=float, default=1_000_000, help="echo items N")
    ap.add_argument("--workers", type=int, default=os.cpu_count(), help="pool size W")
    ap.add_argument("--fib-n", type=int, default=27, help="fib argument")
    ap.add_argument("--fib-items", type=int, default=0,
                    help="fib items M (0 = skip the fib runs)")
    ap.add_argument("--fib-repeat", type=int, default=1,
                    help="timed fib runs per pool size; the shortest is reported")
    ap.add_argument("--skip-echo", action="store_true", help="only the fib runs")
    args = ap.parse_args()

    ok = True
    if not args.skip_echo:
        ok &= run_echo(int(args.items), args.workers)
    if args.fib_items > 0:
        ok_w, t_w = run_fib(args.fib_n, args.fib_items, args.workers, args.fib_repeat)
        ok_1, t_1 = run_fib(args.fib_n, args.fib_items, 1, args.fib_repeat)
        speedup = t_1 / t_w if t_w > 0 else 0.0
        print(f"fib speedup Pool(1)/Pool({args.workers}): {speedup:.2f}x")
        print(f"BENCH bench=peer_fib_speedup workers={args.workers} t1={t_1:.6f} "
              f"tw={t_w:.6f} speedup={speedup:.3f} ok={int(ok_w and ok_1)}")
        ok &= ok_w and ok_1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
