"""mpbench.knobs - the benchmark's settings (every BENCH_* environment
variable, read once at import), its paths, the progress log and the state
main sets up for the run (LIB, the measured snapshot of libmpwrap.so;
LAUNCH, bench/launch.c's binary; LOG, the progress log file)."""

import os
import sys
import time


# bench/, the directory of run.py and of the workloads' sources
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(HERE)


def env_int(name, default):
    v = os.environ.get(name, "")
    try:
        return int(float(v)) if v.strip() else default
    except ValueError:
        sys.exit("bench: %s=%r is not a number" % (name, v))


def env_list(name):
    v = os.environ.get(name, "").strip()
    return [x.strip() for x in v.split(",") if x.strip()] if v else None


QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
REPS = env_int("BENCH_REPS", 3 if QUICK else 5)
SLOW_REPS = min(REPS, max(1, env_int("BENCH_SLOW_REPS", 3)))
SLOW_BIG = env_int("BENCH_SLOW_BIG", 1) != 0
TIMEOUT = env_int("BENCH_TIMEOUT", 3600)
WARMUP = env_int("BENCH_WARMUP", 1) != 0
CHURN_OPS = env_int("BENCH_CHURN_OPS", 200000 if QUICK else 2000000)
MT_OPS = env_int("BENCH_MT_OPS", 100000 if QUICK else 1000000)
WINDOW = env_int("BENCH_WINDOW", 10000)
# the malloc-dominated churn (issue 15): sizes mostly 8..128 B, 64 B touched
MCHURN_OPS = env_int("BENCH_MCHURN_OPS", 1000000 if QUICK else 2000000)
MCHURN_MT_OPS = env_int("BENCH_MCHURN_MT_OPS", 500000 if QUICK else 1000000)
MCHURN_WINDOW = env_int("BENCH_MCHURN_WINDOW", 8192)
REALLOC_NBUF = env_int("BENCH_REALLOC_NBUF", 300 if QUICK else 1000)
REALLOC_ROUNDS = env_int("BENCH_REALLOC_ROUNDS", 1 if QUICK else 4)
LARGE_N = env_int("BENCH_LARGE_N", 500000 if QUICK else 10000000)
PY_SCALE = float(os.environ.get("BENCH_PY_SCALE") or (0.15 if QUICK else 1.0))
SORT_MB = env_int("BENCH_SORT_MB", 5 if QUICK else 50)
GIT_FILES = env_int("BENCH_GIT_FILES", 60 if QUICK else 300)
CC_FUNCS = env_int("BENCH_CC_FUNCS", 30 if QUICK else 60)
DO_REPORT = env_int("BENCH_REPORT", 1) != 0
REPORT_NS = [int(float(x)) for x in (env_list("BENCH_REPORT_NS") or
             (["10000", "50000"] if QUICK else ["10000", "100000", "1000000"]))]
REPORT_REPS = env_int("BENCH_REPORT_REPS", 1 if QUICK else 3)
REPORT_TIMEOUT = env_int("BENCH_REPORT_TIMEOUT", 240)
REPORT_LONG = 30.0   # a report run longer than this gets no more reps
DO_PERF = env_int("BENCH_PERF", 0 if QUICK else 1) != 0
KEEP = env_int("BENCH_KEEP", 0) != 0
OUT = os.path.abspath(os.environ.get("BENCH_OUT") or HERE)
SUFFIX = "-quick" if QUICK else ""
CSV_PATH = os.path.join(OUT, "results%s.csv" % SUFFIX)
MD_PATH = os.path.join(OUT, "RESULTS%s.md" % SUFFIX)
LIB_SRC = os.environ.get("MPWRAP_LIB") or os.path.join(ROOT, "libmpwrap.so")
LIBDIR = "/usr/lib/x86_64-linux-gnu"
LOG = None  # progress log file (besides stdout)


def say(msg):
    line = "[%s] %s" % (time.strftime("%H:%M:%S"), msg)
    print(line, flush=True)
    if LOG:
        LOG.write(line + "\n")
        LOG.flush()


LIB = None  # the snapshot of libmpwrap.so that is measured
LAUNCH = None  # bench/launch.c, built at start
