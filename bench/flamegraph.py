#!/usr/bin/env python3
"""A flame graph (SVG) from folded stacks, as bench/profile writes them:
one "root;frame;...;leaf COUNT" line per distinct stack. Standard library
only; hovering a frame shows its name, samples and share (its <title>).

  flamegraph.py FOLDED [--title TEXT] [--width PX] > OUT.svg
"""

import argparse
import hashlib
import sys
from xml.sax.saxutils import escape

ROW = 16        # pixels per frame
FONT = 11       # font size in pixels
CHAR = 6.2      # average character width at that size
MIN_PX = 0.3    # frames narrower than this are not drawn


def read_folded(path):
    """The call tree: node = [samples, {child name: node}]."""
    root = [0, {}]
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            node = root
            node[0] += n
            for frame in stack.split(";"):
                node = node[1].setdefault(frame, [0, {}])
                node[0] += n
    return root


def depth_of(node):
    return 1 + max((depth_of(c) for c in node[1].values()), default=0)


def colour(name):
    """A warm colour that is the same for the same function in every graph."""
    h = hashlib.md5(name.encode()).digest()
    return f"rgb({205 + h[0] % 50},{80 + h[1] % 130},{h[2] % 60})"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folded", help="folded stacks file")
    ap.add_argument("--title", default="", help="title line")
    ap.add_argument("--width", type=int, default=1200, help="width in pixels")
    args = ap.parse_args()

    root = read_folded(args.folded)
    total = root[0]
    if total == 0:
        sys.exit(f"{args.folded}: no samples")
    depth = depth_of(root) - 1
    top = 40
    height = top + depth * ROW + 10
    scale = (args.width - 20) / total
    out = [f'<?xml version="1.0" encoding="UTF-8"?>',
           f'<svg xmlns="http://www.w3.org/2000/svg" width="{args.width}" height="{height}" '
           f'font-family="monospace" font-size="{FONT}">',
           f'<rect width="100%" height="100%" fill="#f8f8f0"/>',
           f'<text x="{args.width / 2}" y="20" text-anchor="middle" font-size="15">'
           f'{escape(args.title or args.folded)} ({total} samples)</text>']

    # Root at the bottom, children above, widest first from the left.
    def draw(node, name, x, level):
        w = node[0] * scale
        if w < MIN_PX:
            return
        y = height - 10 - (level + 1) * ROW
        share = 100.0 * node[0] / total
        label = f"{name} ({node[0]} samples, {share:.2f}%)"
        out.append(f'<g><title>{escape(label)}</title>'
                   f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{ROW - 1}" '
                   f'fill="{colour(name)}" rx="2"/>')
        chars = int((w - 4) / CHAR)
        if chars >= 3:
            text = name if len(name) <= chars else name[:chars - 2] + ".."
            out.append(f'<text x="{x + 2:.2f}" y="{y + ROW - 4}">{escape(text)}</text>')
        out.append("</g>")
        cx = x
        for child_name, child in sorted(node[1].items(), key=lambda kv: -kv[1][0]):
            draw(child, child_name, cx, level + 1)
            cx += child[0] * scale

    cx = 10.0
    for name, child in sorted(root[1].items(), key=lambda kv: -kv[1][0]):
        draw(child, name, cx, 0)
        cx += child[0] * scale
    out.append("</svg>")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
