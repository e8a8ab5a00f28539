"""The work of the Python function rows, in one module that both sides run:
pprocd's forked Python pools (declared in the server's config by bench/run
as ``python = "bench_work:noop"``, or passed as ``farm.pmap(bench_work.noop,
xs)``), its persistent-command runtime (``python -m pprocd.worker
bench_work:noop``) and the peers' pools (which pickle these functions by
reference). Standard library only."""

import time


def noop(x=None):
    """Returns its argument."""
    return x


def spin(n=0):
    """About n loop turns of pure-Python work; returns n (as given)."""
    s = 0
    for i in range(int(n)):
        s += i
    return n


def calibrate_spin(target_us, tries=5):
    """The n for which spin(n) takes about target_us microseconds of CPU time
    here (CPU time, not wall time, so that other processes on the machine
    do not inflate it; the fastest of a few timings)."""
    n = 1000
    while True:
        best = min(_time_spin(n) for _ in range(tries))
        if best >= 2e-3 or n >= 1 << 30:
            break
        n *= 4
    return max(1, int(round(n * (target_us * 1e-6) / best)))


def _time_spin(n):
    t0 = time.process_time()
    spin(n)
    return time.process_time() - t0
