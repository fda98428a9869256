"""mpbench.peers - the configurations a workload runs under: plain glibc,
libmpwrap with its option sets, and the peer checkers (LeakSanitizer, ASan,
Valgrind memcheck, heaptrack, gperftools), which of them are available
(installing missing ones as root) and how many repetitions each gets."""

import os
import shutil
import subprocess
import sys

from . import knobs  # the run's state, which main sets
from .knobs import (
    LIBDIR, QUICK, REPS, SLOW_BIG, SLOW_REPS, env_int, env_list, say)


class Config:
    """How to run a command under one checker."""

    def __init__(self, name, label, slow=False, quick=False, avail=None,
                 pkgs=(), note=""):
        self.name, self.label, self.slow, self.quick = name, label, slow, quick
        self.avail, self.pkgs, self.note = avail, pkgs, note
        self.skip_reason = None

    def available(self):
        return self.avail is None or self.avail()

    def wrap(self, argv, logdir, tag):
        """(argv, extra environment) for running argv under this config."""
        env = {}
        n = self.name
        if n == "mpwrap":
            env["LD_PRELOAD"] = knobs.LIB
            env["MPWRAP_OPTIONS"] = "log_path=%s/mpwrap.%%p" % logdir
        elif n == "mpwrap-q0":
            env["LD_PRELOAD"] = knobs.LIB
            env["MPWRAP_OPTIONS"] = "quarantine_mb=0:log_path=%s/mpwrap.%%p" % logdir
        elif n == "asan":
            # the same workload rebuilt with -fsanitize=address (built only
            # for the C workloads: config_reps gives the others no run)
            argv = [ASAN_BINS.get(argv[0], argv[0])] + argv[1:]
            env["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=0:log_path=%s/asan" % logdir
        elif n == "mpwrap-nostack":
            env["LD_PRELOAD"] = knobs.LIB
            env["MPWRAP_OPTIONS"] = "stack_depth=0:log_path=%s/mpwrap.%%p" % logdir
        elif n == "mpwrap-guardpage":
            env["LD_PRELOAD"] = knobs.LIB
            env["MPWRAP_OPTIONS"] = ("guard_page_rate=100:log_path=%s/mpwrap.%%p"
                                     % logdir)
        elif n == "mpwrap-sample":
            env["LD_PRELOAD"] = knobs.LIB
            env["MPWRAP_OPTIONS"] = ("sample_rate=1000:log_path=%s/mpwrap.%%p"
                                     % logdir)
        elif n == "mpwrap-profile":
            env["LD_PRELOAD"] = knobs.LIB
            env["MPWRAP_OPTIONS"] = "profile=1:log_path=%s/mpwrap.%%p" % logdir
        elif n == "mpwrap-noreport":
            env["LD_PRELOAD"] = knobs.LIB
            env["MPWRAP_OPTIONS"] = "report_at_exit=0:log_path=%s/mpwrap.%%p" % logdir
        elif n == "lsan":
            env["LD_PRELOAD"] = LSAN
            env["LSAN_OPTIONS"] = "detect_leaks=1:exitcode=0:log_path=%s/lsan" % logdir
        elif n == "valgrind":
            argv = ["valgrind", "--tool=memcheck", "--leak-check=full",
                    "--trace-children=yes", "--log-file=%s/vg.%%p" % logdir] + argv
        elif n == "heaptrack":
            argv = ["heaptrack", "-o", "%s/heaptrack.%s" % (logdir, tag)] + argv
        elif n == "gperf":
            env["LD_PRELOAD"] = TCMALLOC
            env["HEAPCHECK"] = "normal"
            env["HEAP_CHECK_DUMP_DIRECTORY"] = logdir
            if shutil.which("google-pprof"):
                env["PPROF_PATH"] = shutil.which("google-pprof")
        return argv, env

    def ok_rc(self, rc):
        # the heap checker exits 1 when it found leaks (python, git, gcc)
        return rc == 0 or (self.name == "gperf" and rc == 1)


LSAN = os.path.join(LIBDIR, "liblsan.so.0")
ASAN_BINS = {}  # workload binary -> its -fsanitize=address build
TCMALLOC = os.path.join(LIBDIR, "libtcmalloc.so.4")
CONFIGS = [
    Config("glibc", "glibc", quick=True),
    Config("mpwrap", "mpwrap", quick=True,
           avail=lambda: knobs.LIB is not None and os.path.exists(knobs.LIB),
           note="LD_PRELOAD=libmpwrap.so, default options (stack_depth=10, "
                "quarantine_mb=auto: 2 MiB + the peak live heap, at most 64 MiB; exit report on), "
                "MPWRAP_OPTIONS=log_path=FILE"),
    Config("mpwrap-q0", "mpwrap quarantine_mb=0", quick=True,
           avail=lambda: knobs.LIB is not None and os.path.exists(knobs.LIB),
           note="MPWRAP_OPTIONS=quarantine_mb=0:log_path=FILE (the leak gate: "
                "stacks, guards and leak report, no quarantine)"),
    Config("mpwrap-nostack", "mpwrap stack_depth=0",
           avail=lambda: knobs.LIB is not None and os.path.exists(knobs.LIB),
           note="MPWRAP_OPTIONS=stack_depth=0:log_path=FILE"),
    Config("mpwrap-guardpage", "mpwrap guard_page_rate=100",
           avail=lambda: knobs.LIB is not None and os.path.exists(knobs.LIB),
           note="MPWRAP_OPTIONS=guard_page_rate=100:log_path=FILE (one "
                "allocation in 100 against an inaccessible page)"),
    Config("mpwrap-sample", "mpwrap sample_rate=1000", quick=True,
           avail=lambda: knobs.LIB is not None and os.path.exists(knobs.LIB),
           note="MPWRAP_OPTIONS=sample_rate=1000:log_path=FILE (sampled mode: "
                "glibc serves all but one allocation in 1000, which gets a "
                "guarded slot)"),
    Config("mpwrap-profile", "mpwrap profile=1",
           avail=lambda: knobs.LIB is not None and os.path.exists(knobs.LIB),
           note="MPWRAP_OPTIONS=profile=1:log_path=FILE (the heap profile by "
                "allocation site, issue 27: its cost over mpwrap's default, "
                "the target is at most 5%)"),
    Config("lsan", "LSan", quick=True, avail=lambda: os.path.exists(LSAN),
           pkgs=("liblsan0",),
           note="LD_PRELOAD=liblsan.so.0, LSAN_OPTIONS=detect_leaks=1:exitcode=0:log_path=FILE"),
    Config("asan", "ASan", quick=True, avail=lambda: bool(ASAN_BINS),
           pkgs=("libasan8",),
           note="the C workloads rebuilt with gcc -O2 -g -fsanitize=address, "
                "ASAN_OPTIONS=detect_leaks=1:exitcode=0:log_path=FILE; real "
                "programs cannot be rebuilt: n/a"),
    Config("valgrind", "Valgrind", slow=True,
           avail=lambda: shutil.which("valgrind") is not None, pkgs=("valgrind",),
           note="valgrind --tool=memcheck --leak-check=full --trace-children=yes --log-file=FILE"),
    Config("heaptrack", "heaptrack", slow=True,
           avail=lambda: shutil.which("heaptrack") is not None, pkgs=("heaptrack",),
           note="heaptrack -o FILE (follows no child process: gcc's cc1/as are not traced)"),
    Config("gperf", "gperftools", slow=True, avail=lambda: os.path.exists(TCMALLOC),
           pkgs=("libgoogle-perftools4", "google-perftools"),
           note="LD_PRELOAD=libtcmalloc.so.4 HEAPCHECK=normal (PPROF_PATH=google-pprof), "
                "stderr to a file"),
]
CONFIG_BY_NAME = {c.name: c for c in CONFIGS}
REPORT_CONFIG = Config("mpwrap-noreport", "mpwrap report_at_exit=0")


def install_missing(configs):
    """Install the packages of missing peers when root (BENCH_INSTALL=0: never)."""
    missing = [c for c in configs if not c.available() and c.pkgs]
    if not missing or env_int("BENCH_INSTALL", 1) == 0:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    pkgs = sorted({p for c in missing for p in c.pkgs})
    say("installing missing peers: %s" % " ".join(pkgs))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq"] + pkgs, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def choose_configs():
    names = env_list("BENCH_CONFIGS")
    if names:
        unknown = [n for n in names if n not in CONFIG_BY_NAME]
        if unknown:
            sys.exit("bench: unknown BENCH_CONFIGS %s (known: %s)" %
                     (unknown, ", ".join(CONFIG_BY_NAME)))
        chosen = [c for c in CONFIGS if c.name in names or c.name == "glibc"]
    elif QUICK:
        chosen = [c for c in CONFIGS if c.quick]
    else:
        chosen = list(CONFIGS)
    install_missing(chosen)
    for c in chosen:
        if not c.available():
            c.skip_reason = "not installed"
    return chosen


def config_reps(cfg, w):
    if cfg.skip_reason:
        return 0
    if cfg.name == "asan" and w.kind == "real":
        return 0
    if cfg.slow:
        if w.big and not SLOW_BIG:
            return 0
        return SLOW_REPS
    return REPS
