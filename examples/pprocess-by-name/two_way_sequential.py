#!/usr/bin/env python3
"""Sequential reference of two_way.py: the same conversation with a plain
Python generator in place of the server's countdown callable. For row i,
the program sends i*N + N; the counterpart answers k-1 for each k it
receives; the program sends every answer back until it has the row's N
cells (i*N + N-1 down to i*N), stored by position."""

from common import N, Timer, parse_args, print_grid, say


def countdown():
    """The server's countdown, in Python: for each k received, yields k-1."""
    k = yield
    while True:
        k = yield k - 1
        if k is None:
            return


def countdown_row(i, results):
    counter = countdown()
    next(counter)
    value = counter.send(i * N + N)
    for _ in range(N):
        results[value] = value
        if value == i * N:
            break
        value = counter.send(value)
    counter.close()


def main():
    parse_args(__doc__, parallel=False)  # --delay is accepted; countdown has no delay
    with Timer():
        results = [0] * N * N
        say("Calculating...")
        for i in range(N):
            countdown_row(i, results)
        print_grid(results)


if __name__ == "__main__":
    main()
