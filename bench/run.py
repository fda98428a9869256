#!/usr/bin/env python3
"""bench/run.py - the mpwrap benchmark suite (`make bench`).

Runs every workload under plain glibc, libmpwrap (with and without stacks)
and the peer checkers (LeakSanitizer, Valgrind memcheck, heaptrack,
gperftools' heap checker), and writes a markdown table of time and peak-RSS
ratios to plain glibc (RESULTS.md) plus the raw numbers (results.csv).
A second benchmark measures the cost of libmpwrap's exit report with 10k,
100k and 1M leaked blocks.  Python 3 standard library only.

See bench/README.md for the knobs (all environment variables BENCH_*).
The code is the mpbench package beside this file (mpbench/__init__.py
lists its modules).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mpbench.main import main  # noqa: E402  (found above)

if __name__ == "__main__":
    main()
