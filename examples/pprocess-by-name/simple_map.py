#!/usr/bin/env python3
"""Sequential reference of simple_pmap.py: the built-in map over the grid's
(i, j) pairs (the tutorial's simple_map)."""

import functools

from common import N, Timer, calculate, parse_args, print_grid, say


def calculate_pair(t, delay):
    "A supposedly time-consuming calculation on 't'."
    i, j = t
    return calculate(i, j, delay)


def main():
    args = parse_args(__doc__, parallel=False)
    with Timer():
        sequence = [(i, j) for i in range(N) for j in range(N)]
        say("Calculating...")
        results = list(map(functools.partial(calculate_pair, delay=args.delay), sequence))
        print_grid(results)


if __name__ == "__main__":
    main()
