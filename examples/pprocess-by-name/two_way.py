#!/usr/bin/env python3
"""Two-way channels, as in pprocess's two-way test: the server's countdown
channel callable answers k-1 for each number k it receives. For row i the
program opens a channel with farm.start("countdown"), sends i*N + N, and
sends every answer back until it has the row's N cells (i*N + N-1 down to
i*N), each stored by its value; then it closes the channel's input, which
ends the callable. One thread per open channel, at most --limit at once.
Sequential reference: two_way_sequential.py. countdown has no delay: --delay
is accepted for a uniform command line and changes nothing here."""

import concurrent.futures

import pprocd

from common import N, Timer, parse_args, print_grid, say


def countdown_row(farm, i, results):
    with farm.start("countdown") as channel:
        channel.send(i * N + N)
        for _ in range(N):
            value = channel.receive()
            results[value] = value
            if value == i * N:
                break
            channel.send(value)
        # End of input: countdown returns (for row 0 it has already returned
        # after sending 0).
        channel.close()
        channel.result()


def main():
    args = parse_args(__doc__)
    farm = pprocd.Farm(args.address)
    with Timer():
        results = [0] * N * N

        # Perform the work: one conversation per row.
        say("Calculating...")
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.limit) as threads:
            rows = [threads.submit(countdown_row, farm, i, results) for i in range(N)]
            for row in rows:
                row.result()  # raises a row's error, if any

        # Show the results.
        print_grid(results)


if __name__ == "__main__":
    main()
