#!/usr/bin/env python3
"""Sequential reference of simple_managed_queue.py, simple_managed.py,
simple_start.py, simple_start_queue.py and simple_continuous_queue.py:
calculate(i, j) returns its position with its result, which is stored by
position (the tutorial's simple2)."""

from common import N, Timer, calculate_tagged, parse_args, print_grid, say


def main():
    args = parse_args(__doc__, parallel=False)
    with Timer():
        results = [0] * N * N
        say("Calculating...")
        for i in range(N):
            for j in range(N):
                i2, j2, result = calculate_tagged(i, j, args.delay)
                results[i2 * N + j2] = result
        print_grid(results)


if __name__ == "__main__":
    main()
