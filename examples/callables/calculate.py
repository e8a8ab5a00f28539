"""Python functions served by pprocd through its worker runtime.

pprocd.toml declares them, each as a persistent command:

    argv = ["python3", "-m", "pprocd.worker", "calculate:calculate"]

One runtime process per server worker imports this module once and then
serves one call after another, so an import or a set-up cost is paid once
per worker, not once per item. Print freely: the output comes back to the
caller as the item's logs.
"""

import time
from typing import Dict


def calculate(i: int, j: int, n: int = 10, delay: float = 0.0) -> int:
    """Returns i * n + j after sleeping delay seconds (the pprocess tutorial's function)."""
    time.sleep(delay)
    return i * n + j


def word_lengths(text: str) -> Dict[str, int]:
    """Returns each distinct word of text with its length."""
    return {word: len(word) for word in text.split()}


if __name__ == "__main__":
    # The sequential grid, for comparison: python3 calculate.py
    for i in range(10):
        print(" ".join(str(calculate(i, j)) for j in range(10)))
