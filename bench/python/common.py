"""Helpers shared by the Python benchmarks: argument defaults, the client
import, percentiles, and the BENCH line format bench/run reads."""

import os
import signal
import statistics
import sys
import multiprocessing


def noop(x):
    """The peer's no-op task (a module-level function, so it pickles)."""
    return x


def import_client():
    """Imports the pprocd Python client, or exits with a clear message."""
    try:
        import pprocd
    except ImportError as e:
        sys.exit(f"the pprocd Python client is not importable ({e}); "
                 "install it: pip install clients/python")
    return pprocd


def percentile(samples, q):
    """The q-th percentile (0..100) of samples, nearest rank."""
    s = sorted(samples)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def bench_line(**fields):
    """Prints one machine-readable line: BENCH k=v k=v ..."""
    parts = []
    for k, v in fields.items():
        if isinstance(v, bool):
            v = int(v)
        elif isinstance(v, float):
            v = f"{v:.1f}" if abs(v) >= 1000 else f"{v:.6f}"
        parts.append(f"{k}={v}")
    print("BENCH " + " ".join(parts), flush=True)


def on_sigterm_kill_children():
    """SIGTERM (bench/run stopping): kill the peer pools' workers and leave at
    once (Pool.terminate() can hang while the pool is busy)."""
    def on_term(*_):
        for child in multiprocessing.active_children():
            child.kill()
        os._exit(143)
    signal.signal(signal.SIGTERM, on_term)


def fork_context():
    """The peers run with the fork start method, as pprocess does."""
    return multiprocessing.get_context("fork")


_TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid, reaped_children=False):
    """(ppid, CPU seconds of the process itself, plus those of its reaped
    children with ``reaped_children``) from /proc/PID/stat, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command: state ppid ... utime (12th) stime (13th), then the
    # reaped children's cutime and cstime.
    last = 15 if reaped_children else 13
    return int(fields[1]), sum(int(x) for x in fields[11:last]) / _TICK


def process_cpu_s(pid):
    """CPU seconds used so far by process pid alone (all its threads), or -1."""
    s = proc_stat(pid)
    return -1.0 if s is None else s[1]


def tree_cpu_s(root):
    """CPU seconds used so far by root and its live descendants, or -1."""
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            s = proc_stat(int(name))
            if s is not None:
                procs[int(name)] = s
    if root not in procs:
        return -1.0
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, (ppid, _) in procs.items():
            if pid not in tree and ppid in tree:
                tree.add(pid)
                grew = True
    return sum(procs[p][1] for p in tree)
