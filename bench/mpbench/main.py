"""mpbench.main - the benchmark from start to end: snapshot the library,
build, choose the configurations, run, write the tables."""

import datetime
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

from . import knobs  # the run's state, which main sets
from .knobs import (
    CSV_PATH, DO_PERF, DO_REPORT, KEEP, LIB_SRC, MD_PATH, OUT, QUICK,
    env_list, say)
from .peers import choose_configs
from .workloads import build_programs, workloads
from .runner import bench_report, bench_workloads, perf_profiles
from .tables import (
    command_line, machine_info, mpwrap_identity, tool_versions, write_csv,
    write_md)


def main():
    t_start = time.time()
    if not os.path.exists(LIB_SRC):
        sys.exit("bench: %s not found: run `make` first (or set MPWRAP_LIB)" % LIB_SRC)
    base = os.environ.get("BENCH_WORKDIR")
    work = tempfile.mkdtemp(prefix="mpwrap-bench-", dir=base)
    os.makedirs(OUT, exist_ok=True)
    knobs.LOG = open(os.path.join(work, "progress.log"), "w")
    load_start = " ".join("%.2f" % x for x in os.getloadavg())
    try:
        # measure a snapshot: the tree may be rebuilt while the suite runs
        knobs.LIB = os.path.join(work, "libmpwrap.so")
        shutil.copy2(LIB_SRC, knobs.LIB)
        with open(knobs.LIB, "rb") as f:
            lib_sha = hashlib.sha256(f.read()).hexdigest()[:16]
        python = subprocess.run(["python3", "-c", "import sys; print(sys.executable)"],
                                stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
        python = os.path.realpath(python)
        bins = build_programs(work)  # first: the ASan builds decide that peer
        knobs.LAUNCH = bins["launch"]
        configs = choose_configs()
        say("mpwrap bench%s: work dir %s, lib %s (sha256 %s)" %
            (" (quick)" if QUICK else "", work, LIB_SRC, lib_sha))
        say("configurations: %s" % ", ".join(
            c.name + (" (skipped: %s)" % c.skip_reason if c.skip_reason else "")
            for c in configs))
        wls = workloads(bins, python)
        only = env_list("BENCH_WORKLOADS")
        if only:
            wls = [w for w in wls if w.name in only]
        results = []
        bench_workloads(wls, configs, work, results)
        report_rows = bench_report(bins, work) if DO_REPORT else []
        profiles = perf_profiles(bins, work) if DO_PERF else []
        write_csv(results, report_rows)
        dur = time.time() - t_start
        head, dirty = mpwrap_identity()
        info = {
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "duration": "%d min %d s" % (dur // 60, dur % 60),
            "command": command_line(),
            "machine": machine_info(),
            "load_start": load_start,
            "load_end": " ".join("%.2f" % x for x in os.getloadavg()),
            "head": head or "?", "dirty": dirty, "lib_sha": lib_sha,
            "tools": tool_versions(python),
        }
        text = write_md(results, report_rows, profiles, configs, wls, info)
        print()
        print(text)
        say("wrote %s and %s" % (os.path.relpath(MD_PATH), os.path.relpath(CSV_PATH)))
    finally:
        knobs.LOG.close()
        if KEEP:
            print("bench: kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
