#!/usr/bin/env python3
"""Runs a command and prints its wall time in seconds and its peak resident memory in KiB.

Usage: bench/measure.py COMMAND [ARG...]   ->  "SECONDS MAXRSS_KIB" on standard output.
The command's own output goes to standard error; a failing command makes this exit with its status.
"""
import resource
import subprocess
import sys
import time

start = time.monotonic()
completed = subprocess.run(sys.argv[1:], stdout=sys.stderr, stderr=sys.stderr)
elapsed = time.monotonic() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
if completed.returncode != 0:
    sys.exit(completed.returncode)
print(f"{elapsed:.3f} {peak}")
