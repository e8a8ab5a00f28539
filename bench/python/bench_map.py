#!/usr/bin/env python3
"""Map throughput from the Python client, side by side with its peers.

  pprocd:  farm.pmap(CALLABLE, inputs)  (the Python client, a real server)
  imap100: multiprocessing.Pool(W).imap(fn, inputs, chunksize=100)
  map:     multiprocessing.Pool(W).map(fn, inputs)  (default chunksize)
  ppe1000: concurrent.futures.ProcessPoolExecutor(W).map(fn, inputs, chunksize=1000)
  loky:    loky.get_reusable_executor(W).map(fn, inputs, chunksize=1000)
  mpire:   mpire.WorkerPool(W, keep_alive=True).map(fn, inputs)  (its default chunking)
  ray:     ray.util.multiprocessing.Pool(W).map(fn, inputs)  (ray.init(num_cpus=W))

The work (--work): "noop" (default): inputs range(N), fn = bench_work.noop,
the pprocd side calls --callable (default "echo", the server's built-in; or
a config-declared Python function such as bench_work:noop; or, with
--function, the function bench_work.noop itself, by reference). "spin":
inputs [K] * N where bench_work.spin(K) takes about --spin-us microseconds
of CPU time of pure-Python work on this machine (calibrated here first; the
ideal rate is W / that time); the pprocd side calls --callable, which must
run bench_work:spin, or with --function bench_work.spin by reference.

The sides run one after another, --repeat times (A/B/C, A/B/C, ...), and the
median of each counts. Each timed run ends when the caller holds every result
(a list of N values); results are checked after timing. Pools are started
and warmed up before timing, as pprocd's pool is. A peer whose package is
not installed is skipped (and says so).

  bench_map.py --address unix:SOCK [--items N] [--workers W] [--repeat R]
               [--bench TAG] [--callable NAME] [--work noop|spin] [--spin-us U]
               [--function] [--only SIDE ...]

Where the time went (median round): caller_cpu_s is the CPU time of this
process (the pprocd client, or the pool's parent); workers_cpu_s that of its
child processes (a pool's workers), or with --server-pid of the server's
template and workers; server_cpu_s that of the server's main process.

Prints human lines and one machine line per side:
  BENCH bench=TAG side=SIDE items=N workers=W seconds=S items_per_sec=R runs=..
        caller_cpu_s=.. workers_cpu_s=.. server_cpu_s=.. ok=1
  BENCH bench=TAG side=SIDE skipped=1 ok=0     (peer not installed / failed to start)
and, with --work spin: BENCH bench=TAG side=work spin_n=K item_us=U ideal_items_per_sec=R
"""

import argparse
import multiprocessing
import multiprocessing.pool
import os
import sys
import time

from common import (bench_line, fork_context, import_client, median, on_sigterm_kill_children,
                    process_cpu_s, tree_cpu_s)

import bench_work

ALL_SIDES = ["pprocd", "imap100", "map", "ppe1000", "loky", "mpire", "ray"]
DEFAULT_SIDES = ["pprocd", "imap100", "map"]


class Peers:
    """The peers' pools, started (and warmed up) before any gRPC thread
    exists in this process: forking a process with live gRPC threads can
    leave the children stuck on locks."""

    def __init__(self, sides, workers, fn):
        self.runs = {}       # side -> callable(inputs) -> list of results
        self.skipped = {}    # side -> reason
        self._closers = []
        warm = list(range(workers * 4))
        for side in sides:
            if side == "pprocd":
                continue
            try:
                run = getattr(self, "_start_" + side)(workers, fn)
                run(warm)  # warm-up: every worker is up
                self.runs[side] = run
            except Exception as e:  # a peer that cannot start is skipped, not fatal
                self.skipped[side] = f"{type(e).__name__}: {e}"
                print(f"{side}: skipped ({self.skipped[side]})", flush=True)

    def close(self):
        for close in reversed(self._closers):
            try:
                close()
            except Exception:
                pass

    def _pool(self, workers):
        if not hasattr(self, "pool"):
            self.pool = fork_context().Pool(workers)

            def close():
                # Done with it: kill the workers outright. terminate() and
                # join() can hang (a killed or stuck worker may hold the
                # task queue's lock); main() leaves with os._exit. First stop
                # the pool's worker handler, which would start a new worker
                # for each one killed (left behind, orphaned, by os._exit).
                handler = self.pool._worker_handler
                handler._state = multiprocessing.pool.TERMINATE
                self.pool._change_notifier.put(None)
                handler.join(timeout=5)
                for worker in self.pool._pool:
                    worker.kill()
            self._closers.append(close)
        return self.pool

    def _start_map(self, workers, fn):
        pool = self._pool(workers)
        return lambda xs: pool.map(fn, xs)

    def _start_imap100(self, workers, fn):
        pool = self._pool(workers)
        return lambda xs: list(pool.imap(fn, xs, chunksize=100))

    def _start_ppe1000(self, workers, fn):
        import concurrent.futures as cf
        ex = cf.ProcessPoolExecutor(workers, mp_context=fork_context())
        self._closers.append(lambda: ex.shutdown(wait=True))
        return lambda xs: list(ex.map(fn, xs, chunksize=1000))

    def _start_loky(self, workers, fn):
        import loky
        ex = loky.get_reusable_executor(max_workers=workers, timeout=600)
        self._closers.append(lambda: ex.shutdown(wait=True))
        return lambda xs: list(ex.map(fn, xs, chunksize=1000))

    def _start_mpire(self, workers, fn):
        import mpire
        pool = mpire.WorkerPool(n_jobs=workers, keep_alive=True, start_method="fork")
        self._closers.append(pool.terminate)
        return lambda xs: pool.map(fn, xs, progress_bar=False)

    def _start_ray(self, workers, fn):
        import ray
        from ray.util.multiprocessing import Pool
        # Ray's workers import nothing of this directory: send the work's
        # module by value.
        ray.cloudpickle.register_pickle_by_value(bench_work)
        # BENCH_RAY_TMPDIR: where Ray keeps its session files (bench/run
        # points it into its own temp dir, removed at the end).
        tmp = os.environ.get("BENCH_RAY_TMPDIR")
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 configure_logging=False, **({"_temp_dir": tmp} if tmp else {}))
        self._closers.append(ray.shutdown)
        pool = Pool(workers)
        self._closers.append(pool.terminate)
        return lambda xs: pool.map(fn, xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", default=os.environ.get("PPROCD_ADDRESS"),
                    help="pprocd address (default $PPROCD_ADDRESS)")
    ap.add_argument("--items", type=float, default=1_000_000, help="items N")
    ap.add_argument("--workers", type=int, default=2, help="peer pool size W (= pprocd workers)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the median counts")
    ap.add_argument("--bench", default="py_map", help="tag of the BENCH lines")
    ap.add_argument("--callable", default="echo", help="pprocd side: the callable to run")
    ap.add_argument("--work", choices=["noop", "spin"], default="noop",
                    help="the work of one item (see above)")
    ap.add_argument("--spin-us", type=float, default=200.0,
                    help="--work spin: target time of one item in microseconds")
    ap.add_argument("--function", action="store_true",
                    help="pprocd side: pass the work's function itself (farm.pmap(fn, xs), a "
                         "reference the farm runs in a forked Python pool), not --callable")
    ap.add_argument("--server-pid", type=int, default=0,
                    help="pprocd's main process, for the CPU time of the server's side")
    ap.add_argument("--only", choices=ALL_SIDES, action="append",
                    help=f"run only this side (repeatable; default {' '.join(DEFAULT_SIDES)})")
    args = ap.parse_args()
    n = int(args.items)
    sides = args.only or DEFAULT_SIDES

    if args.work == "spin":
        k = bench_work.calibrate_spin(args.spin_us)
        t0 = time.process_time()  # CPU time: what the work costs, whatever the load
        for _ in range(200):
            bench_work.spin(k)
        item_s = (time.process_time() - t0) / 200
        inputs, fn, expected = [k] * n, bench_work.spin, k
        print(f"work: spin({k}) takes {item_s * 1e6:.0f} us here; ideal for W={args.workers}: "
              f"{args.workers / item_s:,.0f} items/s", flush=True)
        bench_line(bench=args.bench, side="work", spin_n=k, item_us=item_s * 1e6,
                   ideal_items_per_sec=args.workers / item_s)
    else:
        inputs, fn, expected = range(n), bench_work.noop, None

    def check(res):
        if len(res) != n:
            return False
        if expected is None:
            return all(v == i for i, v in enumerate(res))
        return all(v == expected for v in res)

    times = {s: [] for s in sides}
    cpu = {s: [] for s in sides}  # (caller, workers, server main) CPU seconds per round
    ok = {s: True for s in sides}
    me = os.getpid()

    def cpu_now(side):
        own = time.process_time()
        if side == "pprocd":
            if args.server_pid <= 0:
                return own, -1.0, -1.0
            main, tree = process_cpu_s(args.server_pid), tree_cpu_s(args.server_pid)
            return own, tree - main, main
        return own, tree_cpu_s(me) - process_cpu_s(me), -1.0
    farm = None
    peers = Peers(sides, args.workers, fn)
    # After the pools have forked their workers, which keep the default
    # SIGTERM (a pool's terminate() relies on it).
    on_sigterm_kill_children()
    try:
        if "pprocd" in sides:
            pprocd = import_client()
            farm = pprocd.Farm(args.address)
            warm = list(range(1000)) if expected is None else [expected] * (args.workers * 4)
            target = fn if args.function else args.callable
            farm.pmap(target, warm)  # warm-up: channel and workers up
            peers.runs["pprocd"] = lambda xs: farm.pmap(target, xs)
        for r in range(max(1, args.repeat)):
            for side in sides:
                if side not in peers.runs:
                    continue
                c0 = cpu_now(side)
                t0 = time.perf_counter()
                res = peers.runs[side](inputs)
                dt = time.perf_counter() - t0
                c1 = cpu_now(side)
                cpu[side].append(tuple(-1.0 if a < 0 else b - a for a, b in zip(c0, c1)))
                good = check(res)
                times[side].append(dt)
                ok[side] &= good
                print(f"round {r + 1}: {side:8s} {n} items in {dt:.3f} s = {n / dt:,.0f} items/s"
                      + ("" if good else "  ** WRONG RESULTS **"), flush=True)
    finally:
        if farm is not None and hasattr(farm, "close"):
            farm.close()
        peers.close()

    for side in sides:
        if side in peers.skipped:
            bench_line(bench=args.bench, side=side, skipped=1, ok=0)
            continue
        dt = median(times[side])
        runs = ",".join(f"{t:.3f}" for t in times[side])
        # The CPU of the median round.
        mid = sorted(range(len(times[side])), key=lambda i: times[side][i])[
            (len(times[side]) - 1) // 2] if times[side] else None
        caller, workers, server = cpu[side][mid] if mid is not None else (-1.0, -1.0, -1.0)
        bench_line(bench=args.bench, side=side, items=n, workers=args.workers, seconds=dt,
                   items_per_sec=n / dt if dt > 0 else 0.0, runs=runs, caller_cpu_s=caller,
                   workers_cpu_s=workers, server_cpu_s=server, ok=ok[side])
    return 0 if all(ok[s] for s in sides if s not in peers.skipped) else 1


if __name__ == "__main__":
    rc = main()
    # Nothing may outlive this process, and the pools' exit handlers must not
    # wait on workers that were killed: kill what is left, then leave at once.
    for child in multiprocessing.active_children():
        child.kill()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
