#!/usr/bin/env python3
"""The tutorial's simple_start with pprocd: no manage(); the exchange's
start() invokes the callable for each cell, and store_data receives what
each invocation produced on its channel. Sequential reference: simple2.py."""

import pprocd

from common import N, Timer, as_int, delay_ms, parse_args, print_grid, say


class MyExchange(pprocd.Exchange):

    "Parallel convenience class containing the array assignment operation."

    def store_data(self, ch):
        i, j, result = ch.receive()
        self.D[as_int(i) * N + as_int(j)] = result


def main():
    args = parse_args(__doc__)
    farm = pprocd.Farm(args.address)
    with Timer():
        # Initialise the communications exchange with a limit on the number
        # of calculations running at once, each in a new process.
        exchange = MyExchange(farm, limit=args.limit, reuse=False)

        # Initialise an array - it is stored in the exchange to permit
        # automatic assignment of values as the data arrives.
        results = exchange.D = [0] * N * N

        # Perform the work.
        say("Calculating...")
        for i in range(N):
            for j in range(N):
                exchange.start("calculate_tagged", i, j, N, delay_ms(args))

        # Wait for the results.
        say("Finishing...")
        exchange.finish()

        # Show the results.
        print_grid(results)


if __name__ == "__main__":
    main()
