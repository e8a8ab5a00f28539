#!/usr/bin/env python3

"""
A simple example of sequential computation using the built-in map function
(the sequential version of simple_pmap).
"""

import time

# Array size and a limit on the number of processes.

N = 10
limit = 10
delay = 0.01

# Work function.

def calculate(t):

    "A supposedly time-consuming calculation on 't'."

    i, j = t
    time.sleep(delay)
    return i * N + j

# Main program.

if __name__ == "__main__":

    t = time.time()

    # Initialise an array.

    sequence = []
    for i in range(0, N):
        for j in range(0, N):
            sequence.append((i, j))

    # Perform the work.

    results = list(map(calculate, sequence))

    # Show the results.

    for i in range(0, N):
        for result in results[i*N:i*N+N]:
            print(result, end=" ")
        print()

    print("Time taken:", time.time() - t)
