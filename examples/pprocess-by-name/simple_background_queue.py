#!/usr/bin/env python3
"""pprocess's simple_background_queue with pprocd: the whole computation is
started as a background job (a BackgroundCallable at "task.socket"), which
the server runs whether or not this program stays; a BackgroundQueue
reconnects to it, possibly from another process, and takes the results as
they arrive.

  simple_background_queue.py              start, then collect, in one process
  simple_background_queue.py --start      start the job and exit
  simple_background_queue.py --reconnect  collect the job's results, print the grid

Sequential reference: simple2.py."""

import pprocd

from common import N, Timer, as_int, delay_ms, parse_args, print_grid, say

# The job's address: its name, and the socket file the server serves it on
# (in the current directory) when it has per-job sockets.
ADDRESS = "task.socket"


def main():
    args = parse_args(__doc__, background=True)
    farm = pprocd.Farm(args.address)
    with Timer():
        if not args.reconnect:

            # Wrap the computation: calling ptask starts a background job of
            # calculate_tagged, each input in a new process. replace=True: a
            # job of an earlier run at this address, if it has ended, goes.
            ptask = pprocd.BackgroundCallable(ADDRESS, "calculate_tagged", farm=farm,
                                              limit=args.limit, reuse=False, replace=True)

            # Perform the work: one job, one input per cell.
            say("Calculating...")
            ptask.map((i, j, N, delay_ms(args)) for i in range(N) for j in range(N))

            # Discard the callable: the job runs on without it.
            del ptask
            say("Discarded the callable.")

        if not args.start:

            # Open a queue and reconnect to the task.
            say("Opening a queue.")
            queue = pprocd.BackgroundQueue(ADDRESS, farm=farm)

            # Initialise an array.
            results = [0] * N * N

            # Wait for the results, storing each as it arrives.
            say("Waiting for persistent results")
            for i, j, result in queue:
                results[as_int(i) * N + as_int(j)] = result

            # Show the results.
            print_grid(results)


if __name__ == "__main__":
    main()
