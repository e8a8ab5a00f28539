#!/usr/bin/env python3

"""
A simple example of sequential computation whose results carry their
position (the sequential version of simple_managed_queue, simple_managed,
simple_start, simple_continuous_queue and the background examples).
"""

import time

# Array size and a limit on the number of processes.

N = 10
limit = 10
delay = 0.01

# Work function.

def calculate(i, j):

    "A supposedly time-consuming calculation on 'i' and 'j'."

    time.sleep(delay)
    return (i, j, i * N + j)

# Main program.

if __name__ == "__main__":

    t = time.time()

    # Initialise an array.

    results = [0] * N * N

    # Perform the work.

    print("Calculating...")
    for i in range(0, N):
        for j in range(0, N):
            i2, j2, result = calculate(i, j)
            results[i2*N+j2] = result

    # Show the results.

    for i in range(0, N):
        for result in results[i*N:i*N+N]:
            print(result, end=" ")
        print()

    print("Time taken:", time.time() - t)
