"""What every program in this directory shares: the tutorial's grid size,
its command line, the sequential calculate(), and how the grid is printed.

The grid goes to stdout, one row per line, values separated by single spaces,
and nothing else: the output of any two programs can be compared byte for
byte. Progress and timing lines go to stderr.
"""

import argparse
import sys
import time

# The tutorial's grid is N x N.
N = 10


def parse_args(description, parallel=True, limit=10, background=False):
    """--delay SECONDS (default 1, as in the tutorial); for the parallel
    programs also --limit (default 10, the tutorial's) and --address; for
    the background programs also --start and --reconnect."""
    ap = argparse.ArgumentParser(description=description)
    if background:
        mode = ap.add_mutually_exclusive_group()
        mode.add_argument("--start", action="store_true",
                          help="only start the background work, then exit")
        mode.add_argument("--reconnect", action="store_true",
                          help="only reconnect to the background work started by --start "
                               "and print its results")
    ap.add_argument("--delay", type=float, default=1.0,
                    help="seconds each calculation sleeps (default 1, as in the tutorial)")
    if parallel:
        ap.add_argument("--limit", type=int, default=limit,
                        help="calculations of this program running at once (default %(default)s)")
        ap.add_argument("--address", default=None,
                        help="pprocd address, e.g. unix:run/pprocd.sock "
                             "(default: $PPROCD_ADDRESS, then the client's default)")
    args = ap.parse_args()
    if args.delay < 0:
        ap.error("--delay must be >= 0")
    if parallel and args.limit < 1:
        ap.error("--limit must be >= 1")
    return args


def delay_ms(args):
    """The --delay in the unit the server's callables take."""
    return int(round(args.delay * 1000))


def calculate(i, j, delay):
    """The tutorial's supposedly time-consuming calculation on i and j."""
    time.sleep(delay)
    return i * N + j


def calculate_tagged(i, j, delay):
    """The same, with the position returned alongside the result."""
    time.sleep(delay)
    return i, j, i * N + j


def as_int(value):
    """A grid value as an int. Values cross the service as JSON numbers
    (google.protobuf.Value), so a client may hand back 12.0 for 12."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    raise TypeError(f"grid value {value!r} is not an integer")


def print_grid(results):
    """Prints N rows of N values from a flat, indexable sequence of results."""
    for i in range(N):
        print(" ".join(str(as_int(result)) for result in results[i * N:i * N + N]))
    sys.stdout.flush()


def say(*words):
    """A progress line, on stderr (stdout holds only the grid)."""
    print(*words, file=sys.stderr, flush=True)


class Timer:
    """Prints "Time taken: ..." on stderr, as the tutorial's programs do."""

    def __enter__(self):
        self.t0 = time.time()
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            say(f"Time taken: {time.time() - self.t0:.3f} s")
        return False
