#!/usr/bin/env python3
"""verdict.py - the determinism suite's driver (t_verdict.sh).

Runs every (binary, shape, exit path) case RUNS times under libmpwrap.so and
once under Valgrind memcheck (when installed), and checks that every run
gives the same definite/indirect/possible bytes, equal to memcheck's on the
same binary.  Prints one TAP line per case and, with --table, the
determinism table (case: runs, distinct verdicts, memcheck's verdict).

Usage: verdict.py [--runs N] [--table FILE] [--no-memcheck] LIB BIN...
A case list comes from CASES below: SHAPE[/EXIT] and, where the verdict is
known from the shape alone, the expected (definite, indirect, possible).
"""
import concurrent.futures, glob, json, os, re, shutil, subprocess, sys, tempfile

# Where memcheck's figures differ for a reason of its own, the reason; the
# case then checks mpwrap's expected verdict only.
MEMCHECK_DIFFERS = {
    "protnone": "memcheck calls a block in a page the program made "
                "inaccessible lost, though a global points to it",
}

# shape, exit path, expected (definite, indirect, possible) bytes
CASES = [
    ("single", "return", (40, 0, 0)),
    ("list", "return", (32, 288, 0)),
    ("tree", "return", (32, 192, 0)),
    ("cycle", "return", (32, 64, 0)),
    ("self", "return", (32, 0, 0)),
    ("interior", "return", (0, 0, 64)),
    ("deadframe", "return", (48, 0, 0)),
    ("global", "return", (0, 0, 0)),
    ("freed", "return", (192, 0, 0)),
    ("freed-thread", "return", (192, 0, 0)),
    ("register", "return", (0, 0, 0)),
    ("threads", "return", (576, 0, 0)),
    ("unstarted", "return", (0, 0, 0)),
    ("fork", "return", (40, 0, 0)),
    # a forked child's own blocks, hung from inherited ones (its exit
    # report reads only the inherited pages it wrote)
    ("fork-reach", "return", (0, 0, 0)),
    ("fork-lost", "return", (32, 288, 0)),
    ("fork-interior", "return", (0, 0, 64)),
    ("fork-again", "return", (40, 0, 0)),
    ("protnone", "return", (40, 0, 0)),
    ("stackhole", "return", (40, 0, 0)),
    ("shared", "return", (0, 0, 0)),
    ("list", "exit", (32, 288, 0)),
    ("list", "_exit", (32, 288, 0)),
    ("list", "thread-exit", (32, 288, 0)),
    ("list", "abort", (32, 288, 0)),
    # 16 threads allocating and freeing while main exits: every block is
    # in a slot, a register or on its way to free, none lost
    ("busy", "exit", (0, 0, 0)),
    # freed blocks given straight back to the real allocator: its freed
    # chunks keep stale pointers, and must not act as roots
    ("freed", "return", (192, 0, 0), "quarantine_mb=0"),
    ("freed-thread", "return", (192, 0, 0), "quarantine_mb=0"),
]
# dt_cxx (C++ interior pointers): with memcheck's heuristics (the default
# of both tools) and without; the verdict then also carries the bytes kept
# by each heuristic (stdstring, length64, newarray, multipleinheritance)
CXX_CASES = [
    ("heuristics", "all", (8, 0, 0, 65, 42, 14, 40)),
    ("heuristics", "none", (8, 0, 161, 0, 0, 0, 0)),
]
KINDS = ("definite", "indirect", "possible")
HEURS = ("stdstring", "length64", "newarray", "multipleinheritance")


def cases_for(binary):
    return CXX_CASES if os.path.basename(binary).startswith("dt_cxx") else CASES


def argv_for(binary, shape, how):
    """dt_cxx takes no arguments: its `how` is the heuristics setting."""
    if os.path.basename(binary).startswith("dt_cxx"):
        return [binary]
    return [binary, shape, how]


def heur_setting(binary, how):
    return how if os.path.basename(binary).startswith("dt_cxx") else None


def run_mpwrap(lib, binary, shape, how, extra, tmp):
    d = tempfile.mkdtemp(dir=tmp)
    opts = "json_path=%s/r.%%p.json:log_path=%s/r.%%p.log" % (d, d)
    if extra:
        opts += ":" + extra
    heur = heur_setting(binary, how)
    if heur:
        opts += ":leak_heuristics=" + heur
    env = dict(os.environ, LD_PRELOAD=lib, MPWRAP_OPTIONS=opts)
    try:
        p = subprocess.run(argv_for(binary, shape, how), env=env, timeout=30,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        return ("timeout",)
    files = glob.glob(os.path.join(d, "r.*.json"))
    if not files:
        return ("no JSON report (exit %s)" % rc,)
    heur = heur_setting(binary, how)
    tot = [0] * (len(KINDS) + (len(HEURS) if heur else 0))
    for f in files:
        summ = json.load(open(f))["summary"]
        for i, k in enumerate(KINDS):
            tot[i] += summ["leaks"][k]["bytes"]
        for i, h in enumerate(HEURS if heur else ()):
            tot[len(KINDS) + i] += summ["reachable_via_heuristic"][h]["bytes"]
    shutil.rmtree(d, ignore_errors=True)
    return tuple(tot)


VG = re.compile(r"==\d+==\s+(definitely|indirectly|possibly) lost: ([\d,]+) bytes")
VGH = re.compile(r"==\d+==\s+(stdstring|length64|newarray|multipleinheritance)"
                 r"\s*: ([\d,]+) bytes")


def run_memcheck(binary, shape, how):
    heur = heur_setting(binary, how)
    try:
        supp = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "glibc.supp")
        p = subprocess.run(["valgrind", "--leak-check=full", "--error-limit=no",
                            "--child-silent-after-fork=no",
                            "--leak-check-heuristics=" + (heur or "all"),
                            "--suppressions=" + supp] + argv_for(binary, shape, how),
                           timeout=120, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    except subprocess.TimeoutExpired:
        return ("timeout",)
    tot = [0] * (len(KINDS) + (len(HEURS) if heur else 0))
    for m in VG.finditer(p.stderr):
        tot[("definitely", "indirectly", "possibly").index(m.group(1))] += \
            int(m.group(2).replace(",", ""))
    for m in VGH.finditer(p.stderr if heur else ""):
        tot[len(KINDS) + HEURS.index(m.group(1))] += int(m.group(2).replace(",", ""))
    return tuple(tot)


def shape_of(key):
    return key[1]


def main():
    args = sys.argv[1:]
    runs, table, memcheck = 10, None, shutil.which("valgrind") is not None
    while args and args[0].startswith("--"):
        a = args.pop(0)
        if a == "--runs":
            runs = int(args.pop(0))
        elif a == "--table":
            table = args.pop(0)
        elif a == "--no-memcheck":
            memcheck = False
    lib, bins = args[0], args[1:]
    tmp = tempfile.mkdtemp(prefix="mpwrap-verdict.")
    jobs = {}
    # twice the cores: a run with threads spends most of its time waiting
    # (0.3 s wall for 0.05 s of CPU; `busy` 3.4 s for 0.85 s), so one run
    # per core left the cores idle; the runs and their checks are the same
    workers = int(os.environ.get("MPWRAP_VERDICT_JOBS") or 2 * (os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        for b in bins:
            for case in cases_for(b):
                shape, how, want = case[:3]
                extra = case[3] if len(case) > 3 else ""
                key = (os.path.basename(b), shape, how + (" " + extra if extra else ""))
                jobs[key] = ([ex.submit(run_mpwrap, lib, b, shape, how, extra, tmp)
                              for _ in range(runs)],
                             ex.submit(run_memcheck, b, shape, how) if memcheck else None,
                             want)
        n = bad = 0
        rows = []
        for key, (futs, mc, want) in jobs.items():
            got = [f.result() for f in futs]
            distinct = sorted(set(got))
            mcv = mc.result() if mc else None
            n += 1
            name = "%s %s/%s" % key
            problems = []
            if len(distinct) != 1:
                problems.append("%d distinct verdicts over %d runs: %s"
                                % (len(distinct), runs, distinct))
            elif distinct[0] != want:
                problems.append("verdict %s, expected %s" % (distinct[0], want))
            if shape_of(key) in MEMCHECK_DIFFERS:
                mcv = None
            if mcv is not None and distinct and distinct[0] != mcv:
                problems.append("memcheck says %s, mpwrap %s" % (mcv, distinct[0]))
            rows.append((key, runs, len(distinct), distinct[0] if len(distinct) == 1
                         else "varies", mcv))
            if problems:
                bad += 1
                print("not ok %d - %s" % (n, name), flush=True)
                for p in problems:
                    print("#   " + p, flush=True)
            else:
                print("ok %d - %s: %s in %d runs%s" % (
                    n, name, "/".join(map(str, distinct[0])), runs,
                    ", = memcheck" if mcv is not None else ""), flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    if table:
        with open(table, "w") as t:
            t.write("| binary | shape | exit | runs | distinct | mpwrap def/ind/poss | memcheck |\n")
            t.write("|---|---|---|---|---|---|---|\n")
            for (b, s, h), r, d, v, m in rows:
                fmt = lambda x: "/".join(map(str, x)) if isinstance(x, tuple) else str(x)
                t.write("| %s | %s | %s | %d | %d | %s | %s |\n"
                        % (b, s, h, r, d, fmt(v), fmt(m) if m else "-"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
