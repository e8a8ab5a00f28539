"""Module-level functions the Python-function tests pass to the farm by
reference. Imported by the farm's Python template, so it imports nothing
but the standard library."""

import os

# Set once at import: every worker forked from the template sees it.
IMPORTED_BY = os.getpid()


def square(x):
    return x * x


def add(a, b=10):
    return a + b


def fail(message):
    raise ValueError(message)


def describe(*args, **kwargs):
    return [list(args), kwargs]


def template_pid(_):
    return IMPORTED_BY


def countdown(channel, n):
    """Sends n, n-1, ..., 1, then returns what the client sent back."""
    for value in range(n, 0, -1):
        channel.send(value)
    return channel.receive()


class Shapes:
    @staticmethod
    def area(width, height):
        return width * height
