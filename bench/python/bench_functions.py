#!/usr/bin/env python3
"""Python functions passed by reference (farm.pmap(fn, xs)), the rows that
bench_map.py does not cover, each side by side with its peer:

  --row fresh   FRESH items per second: farm.pmap(bench_work.noop, range(N),
                limit=W, reuse=False) (every item in a process forked from
                the function's template), against a loop of os.fork() /
                os._exit(0) / os.waitpid in a plain Python process (one child
                at a time). Rounds alternate; medians count.
  --row memory  A module that allocates SIZE MiB at import (a bytearray
                filled so that its pages are real), W workers: the total PSS
                (/proc/PID/smaps_rollup) of the pprocd pool (the template and
                the workers that ran the items) after every worker ran an
                item that reads the whole table, against a spawn-based
                multiprocessing Pool(W) (every worker imports the module) after
                the same items. The caller's own copy of the module skips the
                table (it only needs the function object; BENCH_NO_TABLE=1),
                so neither caller's memory counts. The server must have at
                least W workers.
  --row first   First call of a new function reference: farm.pmap(fn, [1]) of
                a module file written just before (a fresh module each round, so
                a new template is made: the server's spare of that interpreter
                and import path imports it), against `python -c 'import mod'`
                of another fresh module with the same interpreter (wall time of
                the process); "cold": the same for a module on an import path
                of its own (no spare: an interpreter starts for it); and, for
                reference, `python -I -c` importing the worker runtime and a
                fresh module. Rounds alternate; medians count.

  bench_functions.py --address unix:SOCK --row fresh|memory|first [--items N]
                     [--workers W] [--repeat R] [--table-mib SIZE] [--server-pid PID]

Machine lines (one per side):
  BENCH bench=py_fn_fresh side=pprocd|fork_loop items=N seconds=S per_sec=R runs=.. ok=1
  BENCH bench=py_fn_fresh side=cpu client_us_per_item=.. server_us_per_item=..
        pool_us_per_item=..   (with --server-pid: CPU per item, median round)
  BENCH bench=py_fn_memory side=pprocd|spawn workers=W table_mib=SIZE pss_mib=P
        processes=K per_table=P/SIZE ok=1
  BENCH bench=py_fn_first side=pprocd|import|runtime_import seconds=S runs=.. ok=1
"""

import argparse
import importlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
import textwrap
import time

from common import bench_line, import_client, median, on_sigterm_kill_children, proc_stat

import bench_work

FORK_LOOP = textwrap.dedent('''
    import os, sys, time
    n = int(sys.argv[1])
    def loop(k):
        for _ in range(k):
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
    loop(min(n, 200))  # warm-up
    t0 = time.perf_counter()
    loop(n)
    print(time.perf_counter() - t0)
''')


def fresh_row(farm, args):
    n, w = args.items, args.workers

    cpu = []  # per pprocd round: (client, server main, template + workers) CPU s

    def pprocd_side():
        c0 = cpu_now(args.server_pid)
        t0 = time.perf_counter()
        res = farm.pmap(bench_work.noop, range(n), limit=w, reuse=False)
        dt = time.perf_counter() - t0
        cpu.append(tuple(b - a for a, b in zip(c0, cpu_now(args.server_pid))))
        return dt, res == list(range(n))

    def fork_side():
        p = subprocess.run([sys.executable, "-c", FORK_LOOP, str(n)], capture_output=True,
                           text=True, check=False)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            return float("nan"), False
        return float(p.stdout.strip()), True

    farm.pmap(bench_work.noop, range(min(n, 200)), limit=w, reuse=False)  # warm-up
    ok = rounds("py_fn_fresh", args.repeat, [("pprocd", pprocd_side), ("fork_loop", fork_side)],
                n, "processes")
    if args.server_pid > 0 and cpu:
        # CPU per item of the median round, by process group (reaped
        # workers count through their parent's cutime/cstime).
        client, server, pool = sorted(cpu)[(len(cpu) - 1) // 2]
        bench_line(bench="py_fn_fresh", side="cpu", client_us_per_item=client / n * 1e6,
                   server_us_per_item=server / n * 1e6, pool_us_per_item=pool / n * 1e6)
    return ok


def cpu_now(server_pid):
    """(this process, the server's main process, the server's descendants)
    CPU seconds so far; reaped children count in their parent's."""
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name), reaped_children=True)
            if st is not None:
                procs[int(name)] = st
    tree, grew = {server_pid}, True
    while grew:
        grew = False
        for pid, (ppid, _) in procs.items():
            if pid not in tree and ppid in tree:
                tree.add(pid)
                grew = True
    main = procs.get(server_pid, (0, 0.0))[1]
    below = sum(procs[p][1] for p in tree if p != server_pid and p in procs)
    return time.process_time(), main, below


def rounds(bench, repeat, sides, n=None, what="items"):
    """Runs the sides alternately repeat times; prints one BENCH line each."""
    times = {name: [] for name, _ in sides}
    ok = {name: True for name, _ in sides}
    for r in range(max(1, repeat)):
        for name, run in sides:
            dt, good = run()
            times[name].append(dt)
            ok[name] &= good
            rate = f" = {n / dt:,.0f}/s" if n else ""
            print(f"round {r + 1}: {name:9s} " + (f"{n} {what} " if n else "")
                  + f"in {dt:.4f} s{rate}" + ("" if good else "  ** FAILED **"), flush=True)
    for name, ts in times.items():
        dt = median(ts)
        fields = dict(bench=bench, side=name)
        if n:
            fields.update(items=n, per_sec=n / dt if dt > 0 else 0.0)
        bench_line(**fields, seconds=dt, runs=",".join(f"{t:.4f}" for t in ts), ok=ok[name])
    return all(ok.values())


FIRST_MODULE = '''
"""A module written for one first-call round."""


def ident(x):
    return x
'''


def first_row(farm, args, tmp):
    counter = iter(range(1 << 30))

    def fresh_module():
        name = f"bench_first_{os.getpid()}_{next(counter)}"
        path = os.path.join(tmp, name + ".py")
        with open(path, "w") as f:
            f.write(FIRST_MODULE)
        return name

    def pprocd_side():
        # The caller needs the function object: its import is not timed.
        fn = importlib.import_module(fresh_module()).ident
        t0 = time.perf_counter()
        res = farm.pmap(fn, [1])
        return time.perf_counter() - t0, res == [1]

    def cold_side():
        # A module in a directory of its own put first on sys.path: a new
        # import path, so no template started ahead (a spare) can serve it
        # and the server starts an interpreter for it, as for the first
        # module a program passes.
        where = os.path.join(tmp, f"cold_{next(counter)}")
        os.mkdir(where)
        sys.path.insert(0, where)
        try:
            name = f"bench_cold_{os.getpid()}_{next(counter)}"
            with open(os.path.join(where, name + ".py"), "w") as f:
                f.write(FIRST_MODULE)
            fn = importlib.import_module(name).ident
            t0 = time.perf_counter()
            res = farm.pmap(fn, [1])
            return time.perf_counter() - t0, res == [1]
        finally:
            sys.path.remove(where)

    def import_side():
        name = fresh_module()
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=tmp,
                           env=dict(os.environ, PYTHONPATH=tmp), check=False)
        return time.perf_counter() - t0, p.returncode == 0

    def runtime_side():
        # What a template's start costs at least: the interpreter, isolated
        # (-I) as the template is, the worker runtime and the module.
        name = fresh_module()
        code = (f"import sys; sys.path[:0] = {[tmp] + sys.path[1:]!r}; "
                f"import pprocd._template, pprocd._worker_session, {name}")
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp, check=False)
        return time.perf_counter() - t0, p.returncode == 0

    sys.path.insert(0, tmp)
    return rounds("py_fn_first", args.repeat, [("pprocd", pprocd_side),
                                                ("cold", cold_side),
                                                ("import", import_side),
                                                ("runtime_import", runtime_side)])


MEMORY_MODULE = '''
"""A module with a large table built at import (BENCH_NO_TABLE=1: without
it, for a caller that only needs the function objects)."""

import os

SIZE = {size}
TABLE = None if os.environ.get("BENCH_NO_TABLE") == "1" else bytearray(b"\\x5a") * SIZE


def read(pause):
    """Reads every byte of the table, then waits pause seconds (so that the
    pool's other workers take the other items); returns [pid, parent pid]."""
    import time
    assert TABLE.count(b"\\x5a") == SIZE
    time.sleep(pause)
    return [os.getpid(), os.getppid()]
'''


def pss_kib(pid):
    """Pss of process pid in KiB, from /proc/PID/smaps_rollup, or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def memory_row(farm, args, tmp):
    w, mib = args.workers, args.table_mib
    name = f"bench_table_{os.getpid()}"
    with open(os.path.join(tmp, name + ".py"), "w") as f:
        f.write(MEMORY_MODULE.format(size=mib << 20))
    sys.path.insert(0, tmp)
    os.environ["BENCH_NO_TABLE"] = "1"
    mod = importlib.import_module(name)
    del os.environ["BENCH_NO_TABLE"]
    items = [0.3] * (4 * w)
    ok = True

    def report(side, pids, expect):
        pss = [pss_kib(p) for p in sorted(pids)]
        good = len(pids) == expect and all(x is not None for x in pss)
        total = sum(x or 0 for x in pss) / 1024.0
        print(f"{side}: {len(pids)} processes, PSS " + " + ".join(
            f"{(x or 0) / 1024:.0f}" for x in pss) + f" = {total:.0f} MiB "
            f"({total / mib:.2f}× the {mib} MiB table)", flush=True)
        bench_line(bench="py_fn_memory", side=side, workers=w, table_mib=mib, pss_mib=total,
                   processes=len(pids), per_table=total / mib, ok=good)
        return good

    # pprocd: the template imported the module once; W workers forked from it.
    res = farm.pmap(mod.read, items, chunksize=1)
    workers = {pid for pid, _ in res}
    templates = {ppid for _, ppid in res}
    print(f"pprocd: items ran in {len(workers)} workers forked from {len(templates)} "
          "template(s)", flush=True)
    ok &= report("pprocd", workers | templates, w + 1) and len(templates) == 1

    # The peer: a spawn-based pool, each worker imports the module itself.
    pool = multiprocessing.get_context("spawn").Pool(w)
    try:
        res = pool.map(mod.read, items, chunksize=1)
        ok &= report("spawn", {pid for pid, _ in res}, w)
    finally:
        pool.terminate()  # its workers are idle: they leave at once
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", default=os.environ.get("PPROCD_ADDRESS"),
                    help="pprocd address (default $PPROCD_ADDRESS)")
    ap.add_argument("--row", choices=["fresh", "memory", "first"], required=True)
    ap.add_argument("--items", type=int, default=5000, help="--row fresh: items / forks N")
    ap.add_argument("--workers", type=int, default=2, help="W")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the median counts")
    ap.add_argument("--table-mib", type=int, default=512, help="--row memory: table size")
    ap.add_argument("--server-pid", type=int, default=0,
                    help="--row fresh: pprocd's main process, for CPU per item")
    args = ap.parse_args()
    pprocd = import_client()
    if not hasattr(pprocd, "function_ref"):
        print(f"BENCH bench=py_fn_{args.row} side=pprocd skipped=1 ok=0", flush=True)
        sys.exit("this pprocd client does not pass Python functions by reference")
    if args.row == "memory":
        # Before any gRPC thread: nothing forks after the channel exists.
        multiprocessing.get_context("spawn")
    on_sigterm_kill_children()
    with tempfile.TemporaryDirectory(prefix="pprocd-bench-fn.") as tmp, \
            pprocd.Farm(args.address) as farm:
        if args.row == "fresh":
            ok = fresh_row(farm, args)
        elif args.row == "first":
            ok = first_row(farm, args, tmp)
        else:
            ok = memory_row(farm, args, tmp)
    return 0 if ok else 1


if __name__ == "__main__":
    rc = main()
    for child in multiprocessing.active_children():
        child.kill()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
