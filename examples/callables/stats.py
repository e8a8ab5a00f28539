"""Summary statistics of a list of numbers: a per-invocation command.

pprocd starts this program once per item with the arguments as one JSON
object on stdin ({"numbers": [...]}) and takes what it prints on stdout as
the result (JSON). A non-zero exit (an exception here) fails the item, and
what it wrote to stderr is the error's stderr tail. Standard library only.
"""

import json
import statistics
import sys


def main() -> None:
    numbers = json.load(sys.stdin)["numbers"]
    json.dump({"count": len(numbers), "mean": statistics.fmean(numbers),
               "median": statistics.median(numbers), "min": min(numbers),
               "max": max(numbers)}, sys.stdout)


if __name__ == "__main__":
    main()
