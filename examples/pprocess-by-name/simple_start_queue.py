#!/usr/bin/env python3
"""pprocess's simple_start_queue with pprocd: the queue's start() invokes
the callable for each cell (no manage()), and the results are taken from the
queue as they arrive, each stored by its position. Sequential reference:
simple2.py."""

import pprocd

from common import N, Timer, as_int, delay_ms, parse_args, print_grid, say


def main():
    args = parse_args(__doc__)
    farm = pprocd.Farm(args.address)
    with Timer():
        # Initialise the communications queue with a limit on the number of
        # calculations running at once, each in a new process.
        queue = farm.Queue(limit=args.limit, reuse=False)

        # Initialise an array.
        results = [0] * N * N

        # Perform the work.
        say("Calculating...")
        for i in range(N):
            for j in range(N):
                queue.start("calculate_tagged", i, j, N, delay_ms(args))

        # Store the results as they arrive.
        say("Finishing...")
        for i, j, result in queue:
            results[as_int(i) * N + as_int(j)] = result

        # Show the results.
        print_grid(results)


if __name__ == "__main__":
    main()
