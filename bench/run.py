#!/usr/bin/env python3
"""bench/run.py - the mpwrap benchmark suite (`make bench`).

Runs every workload under plain glibc, libmpwrap (with and without stacks)
and the peer checkers (LeakSanitizer, Valgrind memcheck, heaptrack,
gperftools' heap checker), and writes a markdown table of time and peak-RSS
ratios to plain glibc (RESULTS.md) plus the raw numbers (results.csv).
A second benchmark measures the cost of libmpwrap's exit report with 10k,
100k and 1M leaked blocks.  Python 3 standard library only.

See bench/README.md for the knobs (all environment variables BENCH_*).
"""
import csv
import datetime
import glob
import hashlib
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ---------------------------------------------------------------- knobs --
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


# ------------------------------------------------------ configurations --
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
            env["LD_PRELOAD"] = LIB
            env["MPWRAP_OPTIONS"] = "log_path=%s/mpwrap.%%p" % logdir
        elif n == "mpwrap-q0":
            env["LD_PRELOAD"] = LIB
            env["MPWRAP_OPTIONS"] = "quarantine_mb=0:log_path=%s/mpwrap.%%p" % logdir
        elif n == "asan":
            # the same workload rebuilt with -fsanitize=address (built only
            # for the C workloads: config_reps gives the others no run)
            argv = [ASAN_BINS.get(argv[0], argv[0])] + argv[1:]
            env["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=0:log_path=%s/asan" % logdir
        elif n == "mpwrap-nostack":
            env["LD_PRELOAD"] = LIB
            env["MPWRAP_OPTIONS"] = "stack_depth=0:log_path=%s/mpwrap.%%p" % logdir
        elif n == "mpwrap-guardpage":
            env["LD_PRELOAD"] = LIB
            env["MPWRAP_OPTIONS"] = ("guard_page_rate=100:log_path=%s/mpwrap.%%p"
                                     % logdir)
        elif n == "mpwrap-sample":
            env["LD_PRELOAD"] = LIB
            env["MPWRAP_OPTIONS"] = ("sample_rate=1000:log_path=%s/mpwrap.%%p"
                                     % logdir)
        elif n == "mpwrap-noreport":
            env["LD_PRELOAD"] = LIB
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


LIB = None  # the snapshot of libmpwrap.so that is measured
LAUNCH = None  # bench/launch.c, built at start
LSAN = os.path.join(LIBDIR, "liblsan.so.0")
ASAN_BINS = {}  # workload binary -> its -fsanitize=address build
TCMALLOC = os.path.join(LIBDIR, "libtcmalloc.so.4")

CONFIGS = [
    Config("glibc", "glibc", quick=True),
    Config("mpwrap", "mpwrap", quick=True,
           avail=lambda: LIB is not None and os.path.exists(LIB),
           note="LD_PRELOAD=libmpwrap.so, default options (stack_depth=10, "
                "quarantine_mb=64, exit report on), MPWRAP_OPTIONS=log_path=FILE"),
    Config("mpwrap-q0", "mpwrap quarantine_mb=0", quick=True,
           avail=lambda: LIB is not None and os.path.exists(LIB),
           note="MPWRAP_OPTIONS=quarantine_mb=0:log_path=FILE (the leak gate: "
                "stacks, guards and leak report, no quarantine)"),
    Config("mpwrap-nostack", "mpwrap stack_depth=0",
           avail=lambda: LIB is not None and os.path.exists(LIB),
           note="MPWRAP_OPTIONS=stack_depth=0:log_path=FILE"),
    Config("mpwrap-guardpage", "mpwrap guard_page_rate=100",
           avail=lambda: LIB is not None and os.path.exists(LIB),
           note="MPWRAP_OPTIONS=guard_page_rate=100:log_path=FILE (one "
                "allocation in 100 against an inaccessible page)"),
    Config("mpwrap-sample", "mpwrap sample_rate=1000", quick=True,
           avail=lambda: LIB is not None and os.path.exists(LIB),
           note="MPWRAP_OPTIONS=sample_rate=1000:log_path=FILE (sampled mode: "
                "glibc serves all but one allocation in 1000, which gets a "
                "guarded slot)"),
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


# ---------------------------------------------------------- running one --
class Run:
    __slots__ = ("wall", "rss_kb", "rc", "work_s", "ops", "stdout", "logs",
                 "timed_out", "main_end_ns", "t_end_ns", "err", "step")

    def __init__(self):
        self.wall, self.rss_kb, self.rc = 0.0, 0, 0
        self.work_s = self.ops = None
        self.stdout = ""
        self.logs = {}
        self.timed_out = False
        self.main_end_ns = self.t_end_ns = None
        self.err = ""
        self.step = ""


def base_env():
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "MPWRAP_OPTIONS", "LSAN_OPTIONS", "ASAN_OPTIONS",
              "HEAPCHECK", "HEAPPROFILE", "MALLOC_CHECK_", "MALLOC_PERTURB_"):
        env.pop(k, None)
    env["LC_ALL"] = "C"
    return env


def run_cmd(argv, extra_env, cwd, out_path, err_path, timeout):
    """Run argv through bench/launch.c in its own session: wall time, peak
    RSS of the process tree (wait4), exit code, timed out?, reap time (ns)."""
    res = out_path + ".launch"
    cmd = [LAUNCH, res] + ["%s=%s" % kv for kv in sorted(extra_env.items())] + ["--"] + argv
    with open(out_path, "ab") as out, open(err_path, "ab") as err:
        p = subprocess.Popen(cmd, env=base_env(), cwd=cwd, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err, start_new_session=True)
        try:
            p.wait(timeout)
            killed = False
        except subprocess.TimeoutExpired:
            killed = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    try:
        with open(res) as f:
            status, wall_ns, rss, end_ns = (int(x) for x in f.read().split())
        os.unlink(res)
    except (OSError, ValueError):
        return 0.0, 0, (-9 if killed else 255), killed, time.monotonic_ns()
    return wall_ns / 1e9, rss, os.waitstatus_to_exitcode(status), killed, end_ns


def rc_text(rc, timed_out=False):
    if timed_out:
        return "timeout"
    if rc < 0:
        try:
            return "crash, %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit %d" % rc


def parse_logs(cfg, logdir):
    """Sanity facts from the checker's own logs."""
    facts = {}
    if cfg.name.startswith("mpwrap"):
        files = glob.glob(os.path.join(logdir, "mpwrap.*"))
        errs = leaked = 0
        for f in files:
            txt = read_text(f)
            for m in re.finditer(r"ERROR SUMMARY: (\d+) error", txt):
                errs += int(m.group(1))
            for m in re.finditer(r"definitely lost\s+\d+ bytes in (\d+) block", txt):
                leaked += int(m.group(1))
        facts.update(reports=len(files), errors=errs, leaked=leaked)
        st = [re.findall(r"(\d+) stacks \((\d+) bytes\)", read_text(f)) for f in files]
        st = [x[-1] for x in st if x]
        if st:
            facts["stacks"] = sum(int(a) for a, _ in st)
            facts["depot_bytes"] = sum(int(b) for _, b in st)
        facts["log_bytes"] = sum(os.path.getsize(f) for f in files)
    elif cfg.name == "valgrind":
        files = glob.glob(os.path.join(logdir, "vg.*"))
        errs = leaked = 0
        for f in files:
            txt = read_text(f)
            for m in re.finditer(r"ERROR SUMMARY: ([\d,]+) errors", txt):
                errs += int(m.group(1).replace(",", ""))
            for m in re.finditer(r"definitely lost: [\d,]+ bytes in ([\d,]+) blocks", txt):
                leaked += int(m.group(1).replace(",", ""))
        facts.update(reports=len(files), errors=errs, leaked=leaked)
    elif cfg.name == "lsan":
        files = glob.glob(os.path.join(logdir, "lsan*"))
        facts["reports"] = len(files)
        facts["log_bytes"] = sum(os.path.getsize(f) for f in files)
    return facts


def read_text(path, limit=1 << 20):
    """The head and tail of a (possibly huge) log."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if size <= 2 * limit:
                return f.read().decode("utf-8", "replace")
            head = f.read(limit)
            f.seek(size - limit)
            return (head + b"\n...\n" + f.read()).decode("utf-8", "replace")
    except OSError:
        return ""


def run_workload_once(w, cfg, work, tag, timeout=None):
    """Run every step of workload w under cfg; sum the times of the steps."""
    logdir = os.path.join(work, "logs", tag)
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    out_path = os.path.join(logdir, "stdout")
    err_path = os.path.join(logdir, "stderr")
    r = Run()
    if w.prepare:
        w.prepare(work)
    for i, step in enumerate(w.steps):
        if callable(step):  # untimed preparation between timed steps
            step(work)
            continue
        argv, extra = cfg.wrap(list(step), logdir, "%s.%d" % (tag, i))
        wall, rss, rc, to, t_end = run_cmd(argv, extra, w.cwd(work), out_path, err_path,
                                           timeout or TIMEOUT)
        r.wall += wall
        r.rss_kb = max(r.rss_kb, rss)
        r.t_end_ns = t_end
        if to:
            r.timed_out = True
        if not cfg.ok_rc(rc) or to:
            r.rc = rc if rc else 1
            r.step = " ".join(os.path.basename(a) for a in step[:2])
            break
    r.stdout = read_text(out_path)
    m = re.findall(r"BENCH_WORK_S=([\d.]+) BENCH_OPS=([\d.]+)", r.stdout)
    if m:
        r.work_s = sum(float(a) for a, _ in m)
        r.ops = sum(float(b) for _, b in m)
    m = re.findall(r"BENCH_MAIN_END_NS=(\d+)", r.stdout)
    if m:
        r.main_end_ns = int(m[-1])
    r.logs = parse_logs(cfg, logdir)
    if r.rc:
        err = [l.strip() for l in read_text(err_path, 4096).strip().splitlines()[-3:]]
        r.err = " | ".join(err)[-300:]
        say("    %s: FAILED (%s) in `%s`: %s" % (cfg.name, rc_text(r.rc, r.timed_out),
                                               r.step, r.err))
    if not KEEP:
        shutil.rmtree(logdir, ignore_errors=True)
    return r


# ------------------------------------------------------------ workloads --
class Workload:
    def __init__(self, name, desc, steps, setup=None, prepare=None, big=False,
                 cwd=None, kind="c"):
        self.name, self.desc, self.steps = name, desc, steps
        self.setup, self.prepare, self.big, self.kind = setup, prepare, big, kind
        self._cwd = cwd

    def cwd(self, work):
        return os.path.join(work, self._cwd) if self._cwd else work


def build_programs(work):
    """gcc -O2 -g, dynamically linked, into the work directory."""
    bins = {}
    cc = os.environ.get("BENCH_CC", "gcc")
    specs = {
        "churn": (["-pthread"], []),
        "mchurn": (["-pthread"], []),
        "realloc_grow": ([], []),
        "largeset": ([], []),
        # stable, distinct stacks for every unwinder (see leaky.c)
        "leaky": (["-fno-omit-frame-pointer", "-fno-optimize-sibling-calls"], ["-ldl"]),
        "launch": ([], []),
    }
    for name, (flags, libs) in specs.items():
        exe = os.path.join(work, "bin", name)
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        cmd = [cc, "-O2", "-g"] + flags + ["-Wall", "-Wextra", "-o", exe,
                                           os.path.join(HERE, name + ".c")] + libs
        subprocess.run(cmd, check=True)
        bins[name] = exe
        if name in ("churn", "mchurn", "realloc_grow", "largeset"):
            asan = exe + "-asan"
            cmd = [cc, "-O2", "-g", "-fsanitize=address"] + flags + [
                "-o", asan, os.path.join(HERE, name + ".c")] + libs
            if subprocess.run(cmd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0:
                ASAN_BINS[exe] = asan
    return bins


def lcg_stream(seed):
    s = seed
    while True:
        s = (s * 6364136223846793005 + 1442695040888963407) & (2 ** 64 - 1)
        yield s >> 33


WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima "
         "mike november oscar papa quebec romeo sierra tango uniform victor whiskey "
         "xray yankee zulu malloc free realloc calloc arena slab guard depot stack "
         "quarantine leak reachable pointer").split()


def gen_sort_input(path, mb):
    target = mb * 1024 * 1024
    rnd = lcg_stream(7)
    size = 0
    with open(path, "w") as f:
        buf = []
        while size < target:
            a = next(rnd)
            line = "%s %08x %s %d\n" % (WORDS[a % len(WORDS)], next(rnd),
                                       WORDS[(a >> 7) % len(WORDS)], a % 100003)
            buf.append(line)
            size += len(line)
            if len(buf) >= 10000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf))


def gen_git_tree(root, nfiles):
    rnd = lcg_stream(11)
    for i in range(nfiles):
        d = os.path.join(root, "dir%02d" % (i % 16))
        os.makedirs(d, exist_ok=True)
        lines = []
        for j in range(40 + next(rnd) % 120):
            lines.append(" ".join(WORDS[next(rnd) % len(WORDS)] for _ in range(1 + j % 12)))
        with open(os.path.join(d, "file%04d.txt" % i), "w") as f:
            f.write("\n".join(lines) + "\n")


def git_prepare(work):
    repo = os.path.join(work, "gitrepo")
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(os.path.join(work, "gittree"), repo)


def git_modify(work):
    repo = os.path.join(work, "gitrepo")
    n = 0
    for dirpath, _, files in sorted(os.walk(repo)):
        if ".git" in dirpath.split(os.sep):
            continue
        for fn in sorted(files):
            n += 1
            if n % 3 == 0:
                p = os.path.join(dirpath, fn)
                with open(p) as f:
                    lines = f.read().splitlines()
                lines = lines[::-1][: len(lines) - 3] + ["changed line %d" % n]
                with open(p, "w") as f:
                    f.write("\n".join(lines) + "\n")


def gen_medium_c(path, nfuncs):
    """A deterministic, medium-sized C file (structs, loops, switches, strings)."""
    rnd = lcg_stream(3)
    out = ["/* generated by bench/run.py: a medium C file for the gcc workload */",
           "#include <stdio.h>", "#include <stdlib.h>", "#include <string.h>",
           "#include <stdint.h>", "#include <math.h>", "#include <pthread.h>", "",
           "struct rec { int id; double w; char name[32]; struct rec *next; uint64_t h; };", ""]
    for i in range(nfuncs):
        k = next(rnd) % 7
        out.append("static uint64_t mix%d(uint64_t x) { x ^= x >> %d; x *= 0x%xULL; "
                   "return x ^ (x >> %d); }" % (i, 13 + k, 0x9e3779b97f4a7c15 ^ next(rnd), 29 - k))
        out.append("__attribute__((noinline)) double f%d(struct rec *r, int n, const char *s)" % i)
        out.append("{")
        out.append("\tdouble acc = %d.5; uint64_t h = %du; char buf[64];" % (i, next(rnd) % 1000))
        out.append("\tfor (int i = 0; i < n; i++) {")
        out.append("\t\tswitch ((i + %d) %% %d) {" % (i, 3 + k))
        for c in range(3 + k):
            op = ("acc += r->w * %d" % c, "acc -= sqrt(fabs(acc) + %d)" % c,
                  "h = mix%d(h + %d)" % (i, c), "acc *= 1.0 + 1.0 / (i + %d)" % (c + 1))[c % 4]
            out.append("\t\tcase %d: %s; break;" % (c, op))
        out.append("\t\tdefault: break;")
        out.append("\t\t}")
        out.append("\t\tif (r->next && (i & %d) == 0) r = r->next;" % (1 + k))
        out.append("\t}")
        out.append('\tsnprintf(buf, sizeof buf, "%%s-%d-%%d", s, n);' % i)
        out.append("\tfor (size_t j = 0; j < strlen(buf); j++) h = h * 31 + (unsigned char)buf[j];")
        if i:
            out.append("\tif (n > %d) acc += f%d(r, n / 2, buf);" % (k + 1, i - 1))
        out.append("\tr->h ^= h;")
        out.append("\treturn acc + (double)(h & 0xffff);")
        out.append("}")
        out.append("")
    out.append("int main(int argc, char **argv) { struct rec r = { 1, 2.0, \"x\", 0, 0 }; "
               "(void)argv; printf(\"%%f\\n\", f%d(&r, argc * 10, \"m\")); return 0; }" % (nfuncs - 1))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def workloads(bins, python):
    churn = bins["churn"]
    wl = [
        Workload("churn", "single-thread churn: %s ops, sizes 8..4096, window %s" %
                 (fmt_n(CHURN_OPS), fmt_n(WINDOW)),
                 [[churn, str(CHURN_OPS), str(WINDOW), "1"]]),
    ]
    for t in (1, 2, 8):
        wl.append(Workload("mt-%d" % t, "churn, %d thread%s x %s ops (window %s each)" %
                           (t, "s" if t > 1 else "", fmt_n(MT_OPS), fmt_n(WINDOW)),
                           [[churn, str(MT_OPS), str(WINDOW), str(t)]], big=(t == 8)))
    mchurn = bins["mchurn"]
    for t in (1, 2, 8):
        ops = MCHURN_OPS if t == 1 else MCHURN_MT_OPS
        wl.append(Workload("mchurn-%d" % t, "malloc-dominated churn, %d thread%s x %s ops, "
                           "window %s, sizes 8..128 B (1 in 8: ..4096), 64 B touched" %
                           (t, "s" if t > 1 else "", fmt_n(ops), fmt_n(MCHURN_WINDOW)),
                           [[mchurn, str(ops), str(MCHURN_WINDOW), str(t)]], big=(t == 8)))
    wl += [
        Workload("realloc", "realloc growth: %s buffers x %d rounds, doubling 16 B..64 KiB "
                 "and +16 B steps to 6 KiB" % (fmt_n(REALLOC_NBUF), REALLOC_ROUNDS),
                 [[bins["realloc_grow"], str(REALLOC_NBUF), str(REALLOC_ROUNDS)]]),
        Workload("largeset", "large live set: %s blocks of 16..64 B kept, then freed" %
                 fmt_n(LARGE_N), [[bins["largeset"], str(LARGE_N)]], big=True),
        Workload("python", "python3 dict/string workload (bench/pywork.py, scale %g)" % PY_SCALE,
                 [[python, os.path.join(HERE, "pywork.py"), str(PY_SCALE)]], kind="real"),
        Workload("sort", "sort(1) of a %d MB generated file (LC_ALL=C)" % SORT_MB,
                 [["sort", "-o", "sorted.txt", "sort-input.txt"]], big=True, kind="real",
                 setup=lambda work: gen_sort_input(os.path.join(work, "sort-input.txt"), SORT_MB)),
        Workload("git", "git init/add/commit/commit -a/log -p on %d files" % GIT_FILES,
                 [["git", "init", "-q"], ["git", "add", "-A"],
                  ["git", "commit", "-q", "-m", "initial import"], git_modify,
                  ["git", "commit", "-q", "-a", "-m", "second"],
                  ["git", "status", "--short"],
                  ["git", "log", "-p", "--stat"]],
                 setup=lambda work: gen_git_tree(os.path.join(work, "gittree"), GIT_FILES),
                 prepare=git_prepare, cwd="gitrepo", kind="real"),
        Workload("gcc", "gcc -O2 -g -c of a generated %d-function C file" % CC_FUNCS,
                 [["gcc", "-O2", "-g", "-c", "medium.c", "-o", "medium.o"]], big=True,
                 kind="real", setup=lambda work: gen_medium_c(os.path.join(work, "medium.c"),
                                                               CC_FUNCS)),
    ]
    return wl


# ----------------------------------------------------------- formatting --
def fmt_n(n):
    for div, suf in ((1000000, "M"), (1000, "k")):
        if n >= div and n % (div // 10) == 0:
            v = n / div
            return ("%g" % v) + suf
    return str(n)


def fmt_s(s):
    if s is None:
        return "-"
    return "%.3f s" % s if s < 10 else "%.1f s" % s


def fmt_mib(kb):
    return "%.1f MiB" % (kb / 1024.0) if kb < 10240 else "%.0f MiB" % (kb / 1024.0)


def fmt_ratio(x):
    return "%.2f×" % x if x < 10 else "%.1f×" % x if x < 100 else "%.0f×" % x


def med(xs):
    return statistics.median(xs) if xs else None


# ------------------------------------------------------------ machine --
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=30).stdout.strip()
    except Exception:
        return ""


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION").replace("glibc ", "")
    except (ValueError, OSError):
        glibc = platform.libc_ver()[1]
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "kernel": platform.release(),
        "glibc": glibc,
        "memory": mem,
        "os": sh(". /etc/os-release 2>/dev/null && echo $PRETTY_NAME"),
    }


def tool_versions(python):
    v = {
        "gcc": sh("gcc -dumpfullversion"),
        "python": sh(shlex.quote(python) + " --version").replace("Python ", ""),
        "git": sh("git --version").replace("git version ", ""),
        "coreutils sort": sh("sort --version | head -1").split()[-1],
        "valgrind": sh("valgrind --version").replace("valgrind-", ""),
        "heaptrack": sh("heaptrack --version").replace("heaptrack ", ""),
        "liblsan0": sh("dpkg-query -W -f='${Version}' liblsan0"),
        "gperftools": sh("dpkg-query -W -f='${Version}' libgoogle-perftools4"),
    }
    return {k: x for k, x in v.items() if x and "not" not in x.lower()[:40]}


def mpwrap_identity():
    head = sh("git -C %s rev-parse --short HEAD" % shlex.quote(ROOT))
    dirty = sh("git -C %s status --porcelain --untracked-files=no -- src include Makefile"
               % shlex.quote(ROOT))
    return head, bool(dirty)


def command_line():
    default_lib = os.path.join(ROOT, "libmpwrap.so")
    extra = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in sorted(os.environ.items())
                     if k.startswith("BENCH_") or
                     (k == "MPWRAP_LIB" and os.path.abspath(v) != default_lib))
    cmd = "python3 bench/run.py" + ("".join(" " + shlex.quote(a) for a in sys.argv[1:]))
    if extra:
        cmd = extra + " " + cmd
    if os.environ.get("MAKELEVEL"):
        cmd = ("make bench" if not extra else extra + " make bench") + "  (runs " + cmd + ")"
    return cmd


# ---------------------------------------------------------- main bench --
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


def bench_workloads(wls, configs, work, results):
    for w in wls:
        say("== %s: %s" % (w.name, w.desc))
        if w.setup:
            w.setup(work)
        if WARMUP:
            run_workload_once(w, CONFIG_BY_NAME["glibc"], work, "warmup")
        nreps = {c.name: config_reps(c, w) for c in configs}
        runs = {c.name: [] for c in configs}
        for rep in range(max(nreps.values())):
            for c in configs:  # interleaved: drifting load hits every config alike
                if rep >= nreps[c.name]:
                    continue
                if runs[c.name] and runs[c.name][-1].rc:
                    continue  # failed once: do not insist
                r = run_workload_once(w, c, work, "%s.%s.%d" % (w.name, c.name, rep))
                runs[c.name].append(r)
                say("  rep %d %-15s %8.3f s %8.1f MiB%s" % (
                    rep + 1, c.name, r.wall, r.rss_kb / 1024.0,
                    "" if r.work_s is None else "  (work %.3f s)" % r.work_s))
        for c in configs:
            results.append(summarize(w, c, runs[c.name], nreps[c.name]))


def summarize(w, c, runs, nreps):
    good = [r for r in runs if not r.rc]
    row = {"workload": w.name, "config": c.name, "reps": len(good),
           "status": "ok", "time_s": None, "time_min_s": None, "time_max_s": None,
           "rss_kb": None, "work_s": None, "ops": None, "times": "",
           "reports": "", "tool_errors": "", "leaked_blocks": "", "error": ""}
    if nreps == 0 and c.name == "asan" and w.kind == "real" and not c.skip_reason:
        row["status"] = "n/a"
        return row
    if nreps == 0:
        row["status"] = "skipped: " + (c.skip_reason or "slow peer on a big workload "
                                       "(BENCH_SLOW_BIG=0)")
        return row
    if len(good) < len(runs) or not good:
        bad = [r for r in runs if r.rc][0]
        row["status"] = "FAIL (%s in `%s`)" % (rc_text(bad.rc, bad.timed_out), bad.step)
        row["error"] = bad.err
        if not good:
            return row
    times = [r.wall for r in good]
    row.update(time_s=med(times), time_min_s=min(times), time_max_s=max(times),
               rss_kb=med([r.rss_kb for r in good]),
               times=" ".join("%.3f" % t for t in times))
    ws = [r.work_s for r in good if r.work_s is not None]
    if ws:
        row["work_s"] = med(ws)
        row["ops"] = good[0].ops
    facts = good[0].logs
    if "reports" in facts:
        row["reports"] = facts["reports"]
    if "errors" in facts:
        row["tool_errors"] = facts["errors"]
        row["leaked_blocks"] = facts["leaked"]
    if c.name.startswith("mpwrap") and not facts.get("reports"):
        row["status"] = "ok (no mpwrap report file!)"
    return row


# ---------------------------------------------------- report-cost bench --
def bench_report(bins, work):
    """Exit-report cost of libmpwrap with N leaked blocks."""
    cfgs = [CONFIG_BY_NAME["glibc"], CONFIG_BY_NAME["mpwrap"], REPORT_CONFIG]
    if CONFIG_BY_NAME["lsan"].available():
        cfgs.append(CONFIG_BY_NAME["lsan"])
    if not CONFIG_BY_NAME["mpwrap"].available():
        return []
    rows = []
    gave_up = {}
    say("== report cost: leaky N distinct|shared|none, N in %s" % REPORT_NS)
    for mode in ("distinct", "shared", "none"):
        for n in REPORT_NS:
            w = Workload("leaky", "", [[bins["leaky"], str(n), mode]])
            for c in cfgs:
                key = (c.name, mode)
                row = {"n": n, "mode": mode, "config": c.name, "reps": 0,
                       "status": "ok", "exit_ms": None, "exit_all_ms": "",
                       "main_s": None, "rss_kb": None, "stacks": "",
                       "depot_bytes": "", "log_bytes": ""}
                if key in gave_up:
                    row["status"] = "skipped (%s)" % gave_up[key]
                    rows.append(row)
                    continue
                runs = []
                for rep in range(REPORT_REPS):
                    r = run_workload_once(w, c, work, "report.%s.%d.%s.%d" %
                                          (mode, n, c.name, rep), timeout=REPORT_TIMEOUT)
                    runs.append(r)
                    if r.rc or r.main_end_ns is None:
                        break
                    if (r.t_end_ns - r.main_end_ns) / 1e9 > REPORT_LONG:
                        break
                good = [r for r in runs if not r.rc and r.main_end_ns is not None]
                if not good:
                    r = runs[-1]
                    row["status"] = ("timeout > %d s" % REPORT_TIMEOUT if r.timed_out
                                     else "FAIL (%s)" % rc_text(r.rc))
                    gave_up[key] = "N=%s: %s" % (fmt_n(n), row["status"])
                    say("  %-8s N=%-8s %-16s %s" % (mode, n, c.name, row["status"]))
                    rows.append(row)
                    continue
                exits = [(r.t_end_ns - r.main_end_ns) / 1e6 for r in good]
                row.update(reps=len(good), exit_ms=med(exits),
                           exit_all_ms=" ".join("%.1f" % e for e in exits),
                           main_s=med([r.work_s for r in good if r.work_s is not None]),
                           rss_kb=med([r.rss_kb for r in good]))
                f = good[0].logs
                row["stacks"] = f.get("stacks", "")
                row["depot_bytes"] = f.get("depot_bytes", "")
                row["log_bytes"] = f.get("log_bytes", "")
                say("  %-8s N=%-8s %-16s exit %10.1f ms  rss %7.1f MiB  (%d rep%s)" % (
                    mode, n, c.name, row["exit_ms"], row["rss_kb"] / 1024.0, len(good),
                    "" if len(good) == 1 else "s"))
                rows.append(row)
    return rows


# ------------------------------------------------------------ profiles --
def perf_profiles(bins, work):
    """perf record (DWARF call graphs) of the churn workload under libmpwrap
    and LSan: inclusive and self time per symbol."""
    if not shutil.which("perf"):
        return []
    out = []
    ops = min(MCHURN_OPS, 2000000)
    for name in ("mpwrap", "mpwrap-q0", "lsan"):
        c = CONFIG_BY_NAME[name]
        if not c.available():
            continue
        logdir = os.path.join(work, "logs", "perf." + name)
        os.makedirs(logdir, exist_ok=True)
        data = os.path.join(logdir, "perf.data")
        argv, extra = c.wrap([bins["mchurn"], str(ops), str(MCHURN_WINDOW), "1"],
                             logdir, "perf")
        env = base_env()
        env.update(extra)
        p = subprocess.run(["perf", "record", "-F", "999", "--call-graph", "dwarf,16384",
                            "-o", data, "--"] + argv,
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if p.returncode != 0 or not os.path.exists(data):
            continue
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--children",
                              "-g", "none", "--sort", "dso,sym", "--percent-limit", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        lines, seen = [], set()
        for l in rep.splitlines():
            m = re.match(r"\s*([\d.]+%)\s+([\d.]+%)\s+(\S+)\s+\[[.k]\]\s+(.*?)\s*$", l)
            if not m:
                continue
            sym = m.group(4)
            if len(sym) > 70:
                sym = sym[:67] + "..."
            base = sym.replace(" (inlined)", "")
            if base in ("main", "__libc_start_call_main", "__libc_start_main_impl",
                        "_start", "start_thread", "clone3", "free", "malloc", "free_impl",
                        "alloc_impl", "alloc_keep_errno") or base in seen:
                continue  # the program's frames and the shims' aliases
            if m.group(3) == "[kernel.kallsyms]" and base != "asm_exc_page_fault":
                continue  # kernel time: shown once, as page faults
            seen.add(base)
            lines.append("%8s %8s  %-22s %s" % (m.group(1), m.group(2), m.group(3)[:22], sym))
        out.append((name, ["children     self  dso                    symbol"] + lines[:16]))
        if not KEEP:
            shutil.rmtree(logdir, ignore_errors=True)
    return out


# -------------------------------------------------------------- output --
def write_csv(results, report_rows):
    os.makedirs(OUT, exist_ok=True)
    base = {r["workload"]: r for r in results if r["config"] == "glibc"}
    fields = ["section", "workload", "config", "status", "reps", "time_s", "time_min_s",
              "time_max_s", "rss_kb", "time_ratio", "rss_ratio", "work_s", "ops",
              "mops_per_s", "times", "reports", "tool_errors", "leaked_blocks",
              "n", "mode", "exit_ms", "exit_all_ms", "stacks", "depot_bytes", "log_bytes",
              "error"]
    with open(CSV_PATH, "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        wr.writeheader()
        for r in results:
            b = base.get(r["workload"])
            row = dict(r, section="workload")
            if r["time_s"] and b and b["time_s"]:
                row["time_ratio"] = "%.3f" % (r["time_s"] / b["time_s"])
                row["rss_ratio"] = "%.3f" % (r["rss_kb"] / b["rss_kb"])
            if r["work_s"] and r["ops"]:
                row["mops_per_s"] = "%.3f" % (r["ops"] / r["work_s"] / 1e6)
            for k in ("time_s", "time_min_s", "time_max_s", "work_s"):
                if row.get(k) is not None:
                    row[k] = "%.4f" % row[k]
            wr.writerow(row)
        for r in report_rows:
            row = dict(r, section="report", workload="leaky-%s-%d" % (r["mode"], r["n"]))
            if row.get("exit_ms") is not None:
                row["exit_ms"] = "%.2f" % row["exit_ms"]
            if row.get("main_s") is not None:
                row["work_s"] = "%.4f" % row["main_s"]
            wr.writerow(row)


def main_table(results, configs, wls):
    by = {(r["workload"], r["config"]): r for r in results}
    cols = [c for c in configs if c.name != "glibc"]
    hdr = ["workload", "glibc (time, peak RSS)"] + [c.label for c in cols]
    lines = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
    for w in wls:
        b = by.get((w.name, "glibc"))
        if not b or b["time_s"] is None:
            cells = [w.name, "FAIL"] + [""] * len(cols)
        else:
            cells = [w.name, "%s, %s" % (fmt_s(b["time_s"]), fmt_mib(b["rss_kb"]))]
            for c in cols:
                r = by.get((w.name, c.name))
                if r is None:
                    cells.append("-")
                elif r["status"].startswith("skipped"):
                    cells.append("skipped")
                elif r["time_s"] is None:
                    cells.append(r["status"])
                else:
                    cell = "%s / %s" % (fmt_ratio(r["time_s"] / b["time_s"]),
                                        fmt_ratio(r["rss_kb"] / b["rss_kb"]))
                    if r["status"] != "ok":
                        cell += " (%s)" % r["status"]
                    cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def scaling_table(results, configs, prefix="mt-"):
    by = {(r["workload"], r["config"]): r for r in results}
    if not any(w.startswith(prefix) for w, _ in by):
        return ""
    lines = ["| config | 1 thread | 2 threads | 8 threads | 2 vs 1 | 8 vs 2 |",
             "|---|---|---|---|---|---|"]
    for c in configs:
        tp = {}
        for t in (1, 2, 8):
            r = by.get(("%s%d" % (prefix, t), c.name))
            if r and r["work_s"] and r["ops"]:
                tp[t] = r["ops"] / r["work_s"] / 1e6
        if not tp:
            continue
        cells = [c.label] + ["%.2f" % tp[t] if t in tp else "-" for t in (1, 2, 8)]
        cells.append("%.2f×" % (tp[2] / tp[1]) if 1 in tp and 2 in tp else "-")
        cells.append("%.2f×" % (tp[8] / tp[2]) if 2 in tp and 8 in tp else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report_table(rows):
    if not rows:
        return ""
    by = {(r["mode"], r["n"], r["config"]): r for r in rows}

    def exit_of(mode, n, cfg):
        r = by.get((mode, n, cfg))
        if not r:
            return None, "-"
        if r["exit_ms"] is None:
            return None, r["status"]
        return r["exit_ms"], "%.1f ms" % r["exit_ms"] if r["exit_ms"] < 10000 \
            else "%.1f s" % (r["exit_ms"] / 1000)

    lines = ["| leaks | stacks | mpwrap: exit with report | report_at_exit=0 | "
             "report cost | depot (stacks, memory) | mpwrap peak RSS | report size | "
             "LSan exit | glibc exit |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for mode in ("distinct", "shared", "none"):
        for n in sorted({r["n"] for r in rows}):
            on, on_s = exit_of(mode, n, "mpwrap")
            off, off_s = exit_of(mode, n, "mpwrap-noreport")
            _, ls_s = exit_of(mode, n, "lsan")
            _, gl_s = exit_of(mode, n, "glibc")
            cost = "%.1f ms" % (on - off) if on is not None and off is not None else "-"
            if on is not None and off is not None and on - off >= 10000:
                cost = "%.1f s" % ((on - off) / 1000)
            r = by.get((mode, n, "mpwrap")) or {}
            r2 = by.get((mode, n, "mpwrap-noreport")) or {}
            stacks = r.get("stacks") or r2.get("stacks")
            depot = r.get("depot_bytes") or r2.get("depot_bytes")
            depot_s = "%s, %s" % (fmt_n(int(stacks)), fmt_mib(int(depot) / 1024.0)) \
                if stacks != "" and stacks is not None and depot not in ("", None) else "-"
            rss = r.get("rss_kb") or r2.get("rss_kb")
            size = r.get("log_bytes")
            lines.append("| %s %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                fmt_n(n), "(freed)" if mode == "none" else "leaked", mode, on_s, off_s,
                cost, depot_s, fmt_mib(rss) if rss else "-",
                fmt_mib(size / 1024.0) if isinstance(size, int) and r.get("exit_ms") else "-",
                ls_s, gl_s))
    return "\n".join(lines)


# Why a target is missed: the analysis behind it (profiles, page-fault
# counts and A/B runs of bench/RESULTS.md's notes), shown only beside a
# target this run finds missed.  Keyed by (kind, workload); workload None:
# any workload of that kind.
WHY_MISSED = {
    ("q0", None): "a 10-frame exact (CFI) stack on every malloc and every free (LSan: malloc "
                  "only, frame pointers); a class lock, an out-of-band metadata line and 32 "
                  "guard bytes per block",
    ("q0", "largeset"): "allocation-bound: 10M mallocs, each with a 10-frame stack, guards and "
                        "a 64- or 96-byte slot for a 16-64-byte block",
    ("valgrind", None): "these C programs do nothing but allocate, where most of Valgrind's cost "
                        "is its own allocator's; on the real programs above mpwrap is 10-20x "
                        "faster than Valgrind",
    ("asan", None): "the quarantine: every slot comes back cold after 64 MB of frees (ASan pays "
                    "that too), plus the stack, lock and guard costs of quarantine_mb=0",
    ("asan", "largeset"): "allocation-bound: ASan's 2.1x leaves a bound of 1.05x, less than a "
                          "10-frame stack per malloc and free alone",
    ("real", "git"): "the quarantine keeps every freed block of a short program: `git log -p` "
                     "frees 39 MB of 16-64 KiB buffers that are never reused, so glibc hands out "
                     "fresh pages (6,444 page faults; 2,585 with quarantine_mb=0, glibc 1,261); "
                     "see the quarantine_mb=0 column",
    ("real", "gcc"): "cc1's deep, varied stacks: a 10-frame walk and depot lookup per malloc "
                     "and free (22% of the time with quarantine_mb=0), and the quarantine's "
                     "fresh pages",
    ("real", "python"): "large blocks (lists, dicts) move on every realloc and come back "
                        "cold from the quarantine",
    ("threads2", None): "memory-bound on 2 shared cores: compare glibc's own 2-vs-1 ratio in "
                        "the scaling tables below",
    ("threads8", None): "memory-bound on 2 shared cores: compare glibc's own 8-vs-2 ratio in "
                        "the scaling tables below",
    ("threads8", "malloc churn"): "memory, not locks: glibc's own 8-vs-2 ratio in the table "
                                  "below is no better (8 windows of 8,192 blocks do not fit 2 "
                                  "cores' caches)",
    ("rss", "largeset"): "the brief's layout: 16-byte guards both sides and 32/64-byte classes "
                         "make a 16-64-byte block take a 64- or 96-byte slot plus 16 bytes of "
                         "metadata (glibc: 32-80); that layout's floor is ~1.6x",
    ("rss", None): "the quarantine (64 MB by default) holds freed memory: a program whose "
                   "allocations total many times its live set keeps up to 64 MB more; "
                   "see the quarantine_mb=0 column",
}


def why_missed(kind, workload):
    return WHY_MISSED.get((kind, workload)) or WHY_MISSED.get((kind, None)) or ""


def targets_table(results, report_rows, wls):
    """Issue 15's targets, each judged from this run's numbers."""
    by = {(r["workload"], r["config"]): r for r in results}

    def ratio(w, c):
        r, b = by.get((w, c)), by.get((w, "glibc"))
        if not r or not b or r["time_s"] is None or b["time_s"] is None:
            return None
        return r["time_s"] / b["time_s"]

    def verdict(ok, by_how="", why=None):
        """(verdict, why): why = WHY_MISSED's reason for (kind, workload), if missed."""
        if ok is None:
            return "n/a", ""
        if ok:
            return "**met**", ""
        return ("not met" + (" (%s)" % by_how if by_how else ""),
                why_missed(*why) if why else "")

    def peer_na(w, c):
        r = by.get((w, c))
        return r["status"] if r else "not run"

    rows = []
    heavy = [w for w in wls if w.kind != "real"]
    for w in heavy:  # 1. the leak gate (no quarantine) at or below LSan
        m, l = ratio(w.name, "mpwrap-q0"), ratio(w.name, "lsan")
        if m is None:
            continue
        if l is None:
            rows.append(("quarantine_mb=0 <= LSan: " + w.name,
                         "%s vs LSan %s" % (fmt_ratio(m), peer_na(w.name, "lsan")), *verdict(None)))
        else:
            rows.append(("quarantine_mb=0 <= LSan: " + w.name,
                         "%s vs %s" % (fmt_ratio(m), fmt_ratio(l)),
                         *verdict(m <= l, "%.2fx LSan's ratio" % (m / l), why=("q0", w.name))))
    for w in heavy:  # 2. default at most half ASan
        m, a = ratio(w.name, "mpwrap"), ratio(w.name, "asan")
        if m is None:
            continue
        if a is None:
            rows.append(("default <= ASan / 2: " + w.name,
                         "%s vs ASan %s" % (fmt_ratio(m), peer_na(w.name, "asan")), *verdict(None)))
        else:
            rows.append(("default <= ASan / 2: " + w.name,
                         "%s vs %s / 2 = %s" % (fmt_ratio(m), fmt_ratio(a), fmt_ratio(a / 2)),
                         *verdict(m <= a / 2, "%.2fx the bound" % (m / (a / 2)), why=("asan", w.name))))
    for w in wls:  # 3. real programs at most 1.3x glibc by default
        m = ratio(w.name, "mpwrap")
        if w.kind == "real" and m is not None:
            rows.append(("<= 1.3x glibc: " + w.name, fmt_ratio(m),
                         *verdict(m <= 1.3, "%.2fx the bound" % (m / 1.3), why=("real", w.name))))
    for prefix, what in (("mt-", "churn"), ("mchurn-", "malloc churn")):
        tp = {}  # 4. thread scaling (default options)
        for t in (1, 2, 8):
            q = by.get(("%s%d" % (prefix, t), "mpwrap"))
            if q and q["work_s"] and q["ops"]:
                tp[t] = q["ops"] / q["work_s"]
        if 1 in tp and 2 in tp:
            x = tp[2] / tp[1]
            rows.append(("2 threads >= 1.8x the work of 1 (%s)" % what, "%.2fx" % x,
                         *verdict(x >= 1.8, why=("threads2", what))))
        if 2 in tp and 8 in tp:
            x = tp[8] / tp[2]
            rows.append(("8 threads lose <= 5%% against 2 (%s)" % what, "%.2fx" % x,
                         *verdict(x >= 0.95, why=("threads8", what))))
    r, b = by.get(("largeset", "mpwrap")), by.get(("largeset", "glibc"))
    if r and b and r["rss_kb"] and b["rss_kb"]:  # 5. memory
        x = r["rss_kb"] / b["rss_kb"]
        rows.append(("peak RSS <= 1.5x glibc: largeset", fmt_ratio(x),
                     *verdict(x <= 1.5, "%.2fx the bound" % (x / 1.5), why=("rss", "largeset"))))
    for w in wls:
        r, b = by.get((w.name, "mpwrap")), by.get((w.name, "glibc"))
        if w.kind == "real" and r and b and r["rss_kb"] and b["rss_kb"]:
            x = r["rss_kb"] / b["rss_kb"]
            rows.append(("peak RSS <= 2x glibc: " + w.name, fmt_ratio(x),
                         *verdict(x <= 2, "%.2fx the bound" % (x / 2), why=("rss", w.name))))
    for w in heavy:  # kept from issue 6
        m, v = ratio(w.name, "mpwrap"), ratio(w.name, "valgrind")
        if m is not None and v is not None:
            rows.append((">= 15x faster than Valgrind: " + w.name,
                         "Valgrind %s / mpwrap %s = %.1fx" % (fmt_ratio(v), fmt_ratio(m), v / m),
                         *verdict(v / m >= 15, why=("valgrind", w.name))))
    for mode in ("distinct", "shared"):
        on = [q for q in report_rows if q["mode"] == mode and q["n"] == 1000000 and
              q["config"] == "mpwrap"]
        off = [q for q in report_rows if q["mode"] == mode and q["n"] == 1000000 and
               q["config"] == "mpwrap-noreport"]
        if on and off and on[0]["exit_ms"] is not None and off[0]["exit_ms"] is not None:
            cost = (on[0]["exit_ms"] - off[0]["exit_ms"]) / 1000.0
            rows.append(("1M leaked blocks (%s stacks) reported in <= 2 s" % mode,
                         "%.2f s" % cost, *verdict(cost <= 2)))
        elif on:
            rows.append(("1M leaked blocks (%s stacks) reported in <= 2 s" % mode,
                         on[0]["status"], *verdict(False)))
    if not rows:
        return ""
    lines = ["| target | measured | verdict | why, where missed |", "|---|---|---|---|"]
    lines += ["| %s | %s | %s | %s |" % row for row in rows]
    return "\n".join(lines)


def write_md(results, report_rows, profiles, configs, wls, info):
    md = []
    md.append("# mpwrap benchmark results%s\n" % (" (QUICK MODE: small sizes, smoke test only)"
                                                  if QUICK else ""))
    md.append("Generated by `bench/run.py` on %s (took %s).\n" %
              (info["date"], info["duration"]))
    md.append("- Command: `%s`" % info["command"])
    m = info["machine"]
    md.append("- Machine: %s CPUs (nproc), %s; %s; kernel %s; glibc %s; %s RAM" %
              (m["nproc"], m["cpu"], m["os"], m["kernel"], m["glibc"], m["memory"]))
    md.append("- Load average at start / end: %s / %s (the machine may be shared: "
              "other processes add noise)" % (info["load_start"], info["load_end"]))
    md.append("- libmpwrap.so: commit %s%s, sha256 %s (a snapshot copied at start)" %
              (info["head"], " + uncommitted changes in src/" if info["dirty"] else "",
               info["lib_sha"]))
    md.append("- Tools: " + "; ".join("%s %s" % (k, v) for k, v in info["tools"].items()))
    md.append("- Repetitions: median of %d (Valgrind, heaptrack, gperftools: %d); runs of "
              "all configurations are interleaved; one untimed glibc warm-up run per "
              "workload%s" % (REPS, SLOW_REPS, "" if SLOW_BIG else
                              "; slow peers skipped on big workloads (BENCH_SLOW_BIG=0)"))
    md.append("")
    md.append("## Overhead relative to plain glibc\n")
    md.append("Cells: **wall-time ratio / peak-RSS ratio** to plain glibc (median of the "
              "repetitions; peak RSS is the largest `ru_maxrss` of the process tree, from "
              "`wait4`).  The glibc column gives the absolute baseline.  Multi-step "
              "workloads (git) add the times of their commands and take the largest RSS.\n")
    md.append(main_table(results, configs, wls))
    md.append("")
    md.append("Workloads:\n")
    for w in wls:
        md.append("- **%s**: %s" % (w.name, w.desc))
    md.append("")
    md.append("Configurations:\n")
    for c in configs:
        if c.name == "glibc":
            md.append("- **glibc**: plain run, no preload")
        else:
            md.append("- **%s**: %s%s" % (c.label, c.note,
                                         " — *%s*" % c.skip_reason if c.skip_reason else ""))
    notes = [r for r in results if r["status"] not in ("ok", "n/a") and
             not r["status"].startswith("skipped")]
    if notes:
        md.append("\nProblems:\n")
        for r in notes:
            md.append("- %s under %s: %s%s" % (r["workload"], CONFIG_BY_NAME[r["config"]].label,
                                              r["status"], (": `%s`" % r["error"].replace("`", "'"))
                                              if r.get("error") else ""))
    errs = [r for r in results if r["tool_errors"] not in ("", 0, None)]
    if errs:
        md.append("\nErrors reported by the checkers themselves (first repetition): " +
                  "; ".join("%s under %s: %s" % (r["workload"], r["config"], r["tool_errors"])
                            for r in errs))
    tt = targets_table(results, report_rows, wls)
    if tt:
        md.append("\n## Targets (issue 15), judged from this run\n")
        md.append("Ratios are wall time to plain glibc from the table above (the "
                  "allocation-heavy workloads are the C programs of bench/; ASan is n/a "
                  "on real programs, which cannot be rebuilt); the thread ratios and the "
                  "report cost come from the sections below.  A target missed says by "
                  "how much (measured / bound) and why: the reasons come from the "
                  "profiles, page-fault counts and A/B runs in the notes below "
                  "(bench/run.py WHY_MISSED), and are shown only where this run "
                  "finds the target missed.\n")
        md.append(tt)
    sc = scaling_table(results, configs)
    msc = scaling_table(results, configs, "mchurn-")
    if msc:
        md.append("\n## Multi-thread malloc-churn throughput\n")
        md.append("As below, for the malloc-dominated churn (mchurn-1/2/8).\n")
        md.append(msc)
    if sc:
        md.append("\n## Multi-thread churn throughput\n")
        md.append("Million malloc+free operations per second in the measured phase "
                  "(thread start to join; start-up and exit excluded), all threads "
                  "together; every thread does the same work.  On %s CPUs, ideal "
                  "scaling is 2 vs 1 = %s and 8 vs 2 = 1.00×.\n" %
                  (m["nproc"], "2.00×" if int(m["nproc"]) >= 2 else "1.00×"))
        md.append(sc)
    rt = report_table(report_rows)
    if rt:
        md.append("\n## Exit-report cost (libmpwrap)\n")
        md.append("`bench/leaky.c` leaks N blocks of 32 bytes, every one from its own stack "
                  "(*distinct*: 7 levels of 8 functions, so every stack differs within "
                  "the default 10 frames) or all from one stack (*shared*); *none* frees "
                  "them (control).  Exit time = from the last statement of `main` "
                  "(a CLOCK_MONOTONIC stamp) to the moment the driver reaps the process: "
                  "destructors, leak scan, symbolization, report writing and teardown.  "
                  "Report cost = exit with the default report minus exit with "
                  "`report_at_exit=0`.  Depot figures come from `mp_dump_stats()` called "
                  "at the end of `main`.  Median of up to %d runs; a run over %d s is not "
                  "repeated, one over %d s is killed and larger N are not tried.  Note: LSan "
                  "considers only the first 5,000 leaked blocks and prints at most that many "
                  "stacks, so its column is not the same amount of work.\n" %
                  (REPORT_REPS, int(REPORT_LONG), REPORT_TIMEOUT))
        md.append(rt)
    if profiles:
        md.append("\n## Where the time goes: perf profile of the malloc churn\n")
        md.append("`perf record -F 999 --call-graph dwarf` of `mchurn %s %s 1`; per symbol "
                  "the share of samples spent in it and its callees (children) and in it "
                  "alone (self), entries of at least 2%% (inlined functions appear as "
                  "their own entries in the children column):\n" % (min(MCHURN_OPS, 2000000),
                                                                    MCHURN_WINDOW))
        for name, lines in profiles:
            md.append("**%s**\n" % CONFIG_BY_NAME[name].label)
            md.append("```")
            md.extend(lines)
            md.append("```\n")
    md.append("\nRaw numbers (every configuration, min/max, all times, the checkers' own "
              "error and leak counts): `%s`." % os.path.relpath(CSV_PATH, ROOT))
    with open(MD_PATH, "w") as f:
        f.write("\n".join(md) + "\n")
    return "\n".join(md)


# ---------------------------------------------------------------- main --
def main():
    global LIB, LOG, LAUNCH
    t_start = time.time()
    if not os.path.exists(LIB_SRC):
        sys.exit("bench: %s not found: run `make` first (or set MPWRAP_LIB)" % LIB_SRC)
    base = os.environ.get("BENCH_WORKDIR")
    work = tempfile.mkdtemp(prefix="mpwrap-bench-", dir=base)
    os.makedirs(OUT, exist_ok=True)
    LOG = open(os.path.join(work, "progress.log"), "w")
    load_start = " ".join("%.2f" % x for x in os.getloadavg())
    try:
        # measure a snapshot: the tree may be rebuilt while the suite runs
        LIB = os.path.join(work, "libmpwrap.so")
        shutil.copy2(LIB_SRC, LIB)
        with open(LIB, "rb") as f:
            lib_sha = hashlib.sha256(f.read()).hexdigest()[:16]
        python = subprocess.run(["python3", "-c", "import sys; print(sys.executable)"],
                                stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
        python = os.path.realpath(python)
        bins = build_programs(work)  # first: the ASan builds decide that peer
        LAUNCH = bins["launch"]
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
        LOG.close()
        if KEEP:
            print("bench: kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
