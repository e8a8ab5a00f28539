#!/usr/bin/env python3
"""The tutorial's simple_pmap with pprocd: pmap over the grid's (i, j) pairs,
run by the server's calculate(i, j, n, delay_ms) callable, each in a new
process, results in input order. Sequential reference: simple_map.py."""

import pprocd

from common import N, Timer, delay_ms, parse_args, print_grid, say


def main():
    args = parse_args(__doc__)
    farm = pprocd.Farm(args.address)
    with Timer():
        # Initialise an array: one argument list per call.
        sequence = [(i, j, N, delay_ms(args)) for i in range(N) for j in range(N)]

        # Perform the work.
        say("Calculating...")
        # reuse=False: a new process per call, as pprocess.pmap does by default.
        results = farm.pmap("calculate", sequence, limit=args.limit, reuse=False)

        # Show the results.
        print_grid(results)


if __name__ == "__main__":
    main()
