#!/usr/bin/env python3
"""pprocess's simple_persistent_queue with pprocd: one background job per row
(a BackgroundCallable at "task-<i>.socket" each, running the channel
callable calculate_row, which sends [i, j, i*N + j] for every cell of row
i), and a PersistentQueue connected to all of them that takes the cells as
they arrive from any row.

  simple_persistent_queue.py              start, then collect, in one process
  simple_persistent_queue.py --start      start the jobs and exit
  simple_persistent_queue.py --reconnect  collect the jobs' results, print the grid

Each row is one invocation, so --limit changes nothing here (the server
runs at most its --workers rows at once). Sequential reference: simple2.py."""

import pprocd

from common import N, Timer, as_int, delay_ms, parse_args, print_grid, say


def address(i):
    """The address of row i's job: its name, and its socket file when the
    server has per-job sockets."""
    return "task-%d.socket" % i


def main():
    args = parse_args(__doc__, background=True)
    farm = pprocd.Farm(args.address)
    with Timer():
        if not args.reconnect:

            say("Calculating...")
            for i in range(N):

                # Make a distinct background callable for each part of the
                # computation (replace=True: an ended job of an earlier run
                # at this address goes).
                ptask_i = pprocd.BackgroundCallable(address(i), "calculate_row", farm=farm,
                                                    reuse=False, replace=True)

                # Perform the work.
                ptask_i(i, N, delay_ms(args))

            # Discard the callable.
            del ptask_i
            say("Discarded the callable.")

        if not args.start:

            # Open a queue and reconnect to the tasks.
            say("Opening a queue.")
            queue = pprocd.PersistentQueue(farm=farm)
            for i in range(N):
                queue.connect(address(i))

            # Initialise an array.
            results = [0] * N * N

            # Wait for the results: cells of any row, as they arrive.
            say("Waiting for persistent results")
            for i, j, result in queue:
                results[as_int(i) * N + as_int(j)] = result

            # Show the results.
            print_grid(results)


if __name__ == "__main__":
    main()
