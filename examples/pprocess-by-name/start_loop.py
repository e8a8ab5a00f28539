#!/usr/bin/env python3
"""A loop of farm.start channels (pprocess.start): one channel per row of
the grid to the server's calculate_row(i, n, delay_ms) channel callable,
which sends [i, j, i*N + j] for every j of its row; at most --limit channels
are open at once, and each is read to its end before the next is opened
past the limit. Sequential reference: simple1.py."""

import collections

import pprocd

from common import N, Timer, as_int, delay_ms, parse_args, print_grid, say


def drain(channel, results):
    """Reads every value the channel sends until its callable returns."""
    for i, j, result in channel:
        results[as_int(i) * N + as_int(j)] = result


def main():
    args = parse_args(__doc__)
    farm = pprocd.Farm(args.address)
    with Timer():
        results = [0] * N * N
        open_channels = collections.deque()

        # Perform the work: one channel per row, at most --limit at a time.
        say("Calculating...")
        for i in range(N):
            if len(open_channels) >= args.limit:
                drain(open_channels.popleft(), results)
            open_channels.append(farm.start("calculate_row", i, N, delay_ms(args)))

        # Read what the remaining channels send.
        say("Finishing...")
        while open_channels:
            drain(open_channels.popleft(), results)

        # Show the results.
        print_grid(results)


if __name__ == "__main__":
    main()
