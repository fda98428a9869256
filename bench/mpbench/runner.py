"""mpbench.runner - running: one command under one configuration through
bench/launch.c (wall time, peak RSS, exit status, the checker's logs), every
workload under every configuration, the exit-report benchmark and the perf
profiles."""

import glob
import os
import re
import shutil
import signal
import subprocess
import time

from . import knobs  # the run's state, which main sets
from .knobs import (
    KEEP, MCHURN_OPS, MCHURN_WINDOW, REPORT_LONG, REPORT_NS, REPORT_REPS,
    REPORT_TIMEOUT, TIMEOUT, WARMUP, say)
from .fmt import fmt_n, med
from .peers import CONFIG_BY_NAME, REPORT_CONFIG, config_reps
from .workloads import Workload


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
    cmd = [knobs.LAUNCH, res] + ["%s=%s" % kv for kv in sorted(extra_env.items())] + ["--"] + argv
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
