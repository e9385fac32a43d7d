#!/usr/bin/env python3
"""Folds `perf script` output into stacks and draws a flame graph as SVG.

usage: perf script | bench/flamegraph.py FOLDED.txt FLAME.svg [TITLE]

FOLDED.txt gets one line per distinct stack, "process;outermost;...;innermost COUNT" (the format
speedscope, inferno and flamegraph.pl read). FLAME.svg is a self-contained flame graph: width is
samples, each box's tooltip gives its function and share. Swift names are demangled when
`swift demangle` is on PATH.
"""
import collections
import html
import re
import shutil
import subprocess
import sys

folded_path, svg_path = sys.argv[1], sys.argv[2]
title = sys.argv[3] if len(sys.argv) > 3 else "CPU flame graph"

stacks = collections.Counter()
process, frames = None, []


def flush():
    if process is not None:
        stacks[";".join([process] + list(reversed(frames)))] += 1


header = re.compile(r"^(\S.*?)\s+\d+(/\d+)?\s+(\[\d+\]\s+)?[\d.]+:")
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line.strip():
        flush()
        process, frames = None, []
        continue
    if not line.startswith((" ", "\t")):
        flush()
        match = header.match(line)
        process, frames = (match.group(1).strip() if match else line.split()[0]), []
        continue
    parts = line.strip().split(None, 1)
    symbol = parts[1] if len(parts) > 1 else parts[0]
    symbol = re.sub(r"\+0x[0-9a-f]+", "", symbol)
    symbol = re.sub(r"\s*\(\S*\)$", "", symbol).strip() or "[unknown]"
    frames.append(symbol.replace(";", ":"))
flush()

lines = [f"{stack} {count}" for stack, count in stacks.most_common()]
text = "\n".join(lines) + "\n"
demangler = shutil.which("swift")
if demangler:
    try:
        text = subprocess.run([demangler, "demangle", "--simplified", "--compact"], input=text, capture_output=True,
                              text=True, timeout=300, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        pass
with open(folded_path, "w") as out:
    out.write(text)

# A tree of frames with sample counts.
root = {"name": "all", "count": 0, "children": {}}
for line in text.splitlines():
    stack, _, count = line.rpartition(" ")
    if not stack:
        continue
    count = int(count)
    node = root
    node["count"] += count
    for frame in stack.split(";"):
        node = node["children"].setdefault(frame, {"name": frame, "count": 0, "children": {}})
        node["count"] += count

width, row, total = 1600, 17, max(1, root["count"])
boxes = []


def depth_of(node):
    return 1 + max((depth_of(child) for child in node["children"].values()), default=0)


depth = depth_of(root)
height = depth * row + 40


def place(node, x, level):
    w = node["count"] / total * (width - 20)
    if w < 0.3:
        return
    y = height - 10 - (level + 1) * row
    share = node["count"] / total * 100
    label = node["name"]
    hue = 10 + (hash(label) % 50)
    text_chars = int(w / 7)
    shown = label if len(label) <= text_chars else (label[: max(0, text_chars - 2)] + ".." if text_chars > 3 else "")
    boxes.append(
        f'<g><title>{html.escape(label)} ({node["count"]} samples, {share:.2f}%)</title>'
        f'<rect x="{10 + x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" fill="hsl({hue},85%,60%)" rx="2"/>'
        f'<text x="{13 + x:.1f}" y="{y + row - 5}">{html.escape(shown)}</text></g>'
    )
    offset = x
    for child in sorted(node["children"].values(), key=lambda c: c["name"]):
        place(child, offset, level + 1)
        offset += child["count"] / total * (width - 20)


place(root, 0, 0)
with open(svg_path, "w") as out:
    out.write(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">'
        f'<rect width="100%" height="100%" fill="#fdfdf5"/>'
        f'<text x="10" y="20" font-size="15">{html.escape(title)} — {total} samples</text>'
        + "".join(boxes) + "</svg>\n"
    )
print(f"{len(stacks)} stacks, {total} samples: {folded_path}, {svg_path}", file=sys.stderr)
