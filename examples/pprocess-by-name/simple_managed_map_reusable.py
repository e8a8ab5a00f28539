#!/usr/bin/env python3
"""The tutorial's simple_manage_map_reusable with pprocd: as
simple_managed_map, with reuse=True, so the server runs every call in its
pool of long-lived workers instead of a new process per call (pprocess's
MakeReusable). Sequential reference: simple1.py."""

import pprocd

from common import N, Timer, delay_ms, parse_args, print_grid, say


def main():
    args = parse_args(__doc__)
    farm = pprocd.Farm(args.address)
    with Timer():
        # Initialise the results using a map with a limit on the number of
        # calculations running at once, reusing processes.
        results = farm.Map(limit=args.limit, reuse=True)

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
