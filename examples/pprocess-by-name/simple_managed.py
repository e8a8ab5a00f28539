#!/usr/bin/env python3
"""The tutorial's simple_managed with pprocd: an Exchange subclass whose
store_data stores each result by its position as it arrives; the program
waits with finish(). Sequential reference: simple2.py."""

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

        # Manage the server's calculate_tagged callable.
        calc = exchange.manage("calculate_tagged")

        # Perform the work.
        say("Calculating...")
        for i in range(N):
            for j in range(N):
                calc(i, j, N, delay_ms(args))

        # Wait for the results.
        say("Finishing...")
        exchange.finish()

        # Show the results.
        print_grid(results)


if __name__ == "__main__":
    main()
