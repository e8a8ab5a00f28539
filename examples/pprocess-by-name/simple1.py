#!/usr/bin/env python3
"""Sequential reference of simple_managed_map.py, simple_managed_map_reusable.py
and start_loop.py: calculate(i, j) called in a nested loop (the tutorial's
simple1)."""

from common import N, Timer, calculate, parse_args, print_grid, say


def main():
    args = parse_args(__doc__, parallel=False)
    with Timer():
        results = []
        say("Calculating...")
        for i in range(N):
            for j in range(N):
                results.append(calculate(i, j, args.delay))
        print_grid(results)


if __name__ == "__main__":
    main()
