#!/usr/bin/env python3
"""The tutorial's simple_managed_map with pprocd: a Map collects the results
of a managed calculate, called in a nested loop, each call in a new process;
results come out in call order. Sequential reference: simple1.py."""

import pprocd

from common import N, Timer, delay_ms, parse_args, print_grid, say


def main():
    args = parse_args(__doc__)
    farm = pprocd.Farm(args.address)
    with Timer():
        # Initialise the results using a map with a limit on the number of
        # calculations running at once; reuse=False: a new process per call,
        # as pprocess does unless asked to reuse processes.
        results = farm.Map(limit=args.limit, reuse=False)

        # Manage the server's calculate callable.
        calc = results.manage("calculate")

        # Perform the work.
        say("Calculating...")
        for i in range(N):
            for j in range(N):
                calc(i, j, N, delay_ms(args))

        # Show the results.
        print_grid(results)


if __name__ == "__main__":
    main()
