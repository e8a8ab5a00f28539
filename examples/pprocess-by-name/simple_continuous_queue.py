#!/usr/bin/env python3
"""The tutorial's simple_continuous_queue with pprocd: one call per row of a
channel callable, calculate_row(i, n, delay_ms), which sends [i, j, i*N + j]
for every j of its row; a continuous Queue yields every value sent, as it
arrives. Sequential reference: simple2.py."""

import pprocd

from common import N, Timer, as_int, delay_ms, parse_args, print_grid, say


def main():
    args = parse_args(__doc__)
    farm = pprocd.Farm(args.address)
    with Timer():
        # Initialise the communications queue with a limit on the number of
        # calls running at once, each in a new process; continuous: every
        # value a call sends is a result.
        queue = farm.Queue(limit=args.limit, continuous=True, reuse=False)

        # Initialise an array.
        results = [0] * N * N

        # Manage the server's calculate_row channel callable.
        calc = queue.manage("calculate_row")

        # Perform the work: one call per row.
        say("Calculating...")
        for i in range(N):
            calc(i, N, delay_ms(args))

        # Store the results as they arrive.
        say("Finishing...")
        for i, j, result in queue:
            results[as_int(i) * N + as_int(j)] = result

        # Show the results.
        print_grid(results)


if __name__ == "__main__":
    main()
