#!/usr/bin/env python3
"""Executor submit throughput and one-task round trip, side by side with
concurrent.futures.ProcessPoolExecutor.

  throughput: submit N no-op tasks one by one, then wait for all of them
              pprocd: pprocd.FarmExecutor(address, max_workers=W).submit("echo", i)
              peer:   ProcessPoolExecutor(W).submit(noop, i)
  round trip: submit(...).result(), one task at a time, K times after a
              warm-up; median and p99 of each side
  floor:      (reference) the same number of unary Echo RPCs from grpcio on
              their own channel to the same server: the Python gRPC stack's
              own round trip, no worker involved

The sides alternate (pprocd, peer, pprocd, peer, ...): throughput --repeat
times, the median counts; round trips in --blocks blocks of K/blocks each,
all samples pooled. Executors are created and warmed up before timing.

  bench_submit.py --address unix:SOCK [--tasks N] [--iters K] [--workers W]

Machine lines:
  BENCH bench=py_submit side=pprocd|ppe tasks=N workers=W seconds=S tasks_per_sec=R ok=1
  BENCH bench=py_rtt side=pprocd|ppe|grpc_echo iters=K p50_us=.. p90_us=.. p99_us=.. ok=1
"""

import argparse
import concurrent.futures as cf
import os
import sys
import time

from common import (bench_line, fork_context, import_client, median, noop,
                    on_sigterm_kill_children, percentile)


def submit_all(submit, n):
    t0 = time.perf_counter()
    futures = [submit(i) for i in range(n)]
    cf.wait(futures)
    dt = time.perf_counter() - t0
    ok = all(f.exception() is None and f.result() == i for i, f in enumerate(futures))
    return dt, ok


class _Done:
    """A finished future-like value, for the unary Echo reference."""

    def __init__(self, value):
        self._value = value

    def result(self):
        return self._value


def unary_echo(address):
    """A submit-like function doing one unary Echo RPC (no worker), on a
    grpcio channel of its own; and that channel, to close."""
    import grpc
    from google.protobuf.struct_pb2 import Value
    from pprocd.v1 import service_pb2, service_pb2_grpc
    channel = grpc.insecure_channel(address)
    stub = service_pb2_grpc.ProcessFarmServiceStub(channel)

    def echo(i):
        response = stub.Echo(service_pb2.EchoRequest(value=Value(number_value=i)))
        return _Done(int(response.value.number_value))
    return echo, channel


def round_trips(submit, k, samples):
    ok = True
    for i in range(k):
        t0 = time.perf_counter()
        v = submit(i).result()
        samples.append((time.perf_counter() - t0) * 1e6)
        ok &= v == i
    return ok


def main():
    on_sigterm_kill_children()
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", default=os.environ.get("PPROCD_ADDRESS"),
                    help="pprocd address (default $PPROCD_ADDRESS)")
    ap.add_argument("--tasks", type=int, default=20000, help="submitted tasks N")
    ap.add_argument("--iters", type=int, default=4000, help="measured round trips K per side")
    ap.add_argument("--warmup", type=int, default=400, help="warm-up round trips per side")
    ap.add_argument("--blocks", type=int, default=4, help="alternating round-trip blocks")
    ap.add_argument("--workers", type=int, default=2, help="W for both executors")
    ap.add_argument("--repeat", type=int, default=3, help="throughput rounds; the median counts")
    ap.add_argument("--only", choices=["pprocd", "ppe"], action="append",
                    help="run only this side (repeatable)")
    args = ap.parse_args()
    sides = args.only or ["pprocd", "ppe"]

    executors = {}
    submits = {}
    try:
        # The peer's executor first, its workers forked and warm before gRPC
        # starts threads in this process (forking a process with live gRPC
        # threads can leave the children stuck on locks).
        if "ppe" in sides:
            ex = cf.ProcessPoolExecutor(args.workers, mp_context=fork_context())
            executors["ppe"] = ex
            submits["ppe"] = lambda i, ex=ex: ex.submit(noop, i)
            cf.wait([ex.submit(noop, i) for i in range(args.workers * 8)])
        if "pprocd" in sides:
            pprocd = import_client()
            ex = pprocd.FarmExecutor(address=args.address, max_workers=args.workers)
            executors["pprocd"] = ex
            submits["pprocd"] = lambda i, ex=ex: ex.submit("echo", i)
            echo_rpc, echo_channel = unary_echo(ex.farm.address)
        # Warm-up: every worker started, connections open.
        for side in sides:
            warm = [submits[side](i) for i in range(args.workers * 8)]
            cf.wait(warm)
            round_trips(submits[side], args.warmup, [])

        tp = {s: [] for s in sides}
        tp_ok = {s: True for s in sides}
        for r in range(max(1, args.repeat)):
            for side in sides:
                dt, good = submit_all(submits[side], args.tasks)
                tp[side].append(dt)
                tp_ok[side] &= good
                print(f"round {r + 1}: {side:6s} submit x {args.tasks} + wait: {dt:.3f} s = "
                      f"{args.tasks / dt:,.0f} tasks/s" + ("" if good else "  ** WRONG **"),
                      flush=True)

        lat_sides = list(sides)
        if "pprocd" in sides:
            submits["grpc_echo"] = echo_rpc
            round_trips(echo_rpc, args.warmup, [])
            lat_sides.append("grpc_echo")
        lat = {s: [] for s in lat_sides}
        lat_ok = {s: True for s in lat_sides}
        per_block = max(1, args.iters // max(1, args.blocks))
        for _ in range(max(1, args.blocks)):
            for side in lat_sides:
                lat_ok[side] &= round_trips(submits[side], per_block, lat[side])
    finally:
        for ex in executors.values():
            ex.shutdown(wait=True)
        if "pprocd" in sides:
            echo_channel.close()

    for side in sides:
        dt = median(tp[side])
        bench_line(bench="py_submit", side=side, tasks=args.tasks, workers=args.workers,
                   seconds=dt, tasks_per_sec=args.tasks / dt if dt > 0 else 0.0,
                   runs=",".join(f"{t:.3f}" for t in tp[side]), ok=tp_ok[side])
    for side in lat_sides:
        s = lat[side]
        print(f"{side:9s} round trip x {len(s)}: p50 {percentile(s, 50):.1f} us, "
              f"p90 {percentile(s, 90):.1f} us, p99 {percentile(s, 99):.1f} us", flush=True)
        bench_line(bench="py_rtt", side=side, iters=len(s), p50_us=percentile(s, 50),
                   p90_us=percentile(s, 90), p99_us=percentile(s, 99), ok=lat_ok[side])
    return 0 if all(tp_ok.values()) and all(lat_ok.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
