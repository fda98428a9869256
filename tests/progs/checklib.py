# checklib.py - the report checker shared by t_preload.sh and t_leakkinds.sh:
# parses the JSON and text reports of one run; each script adds its checks.
import glob, json, os, re, sys

RD = os.environ["RD"]
V = {}
for a in sys.argv[2:]:
    k, v = a.split("=", 1)
    V[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
problems = []

class Stop(Exception):
    pass

def need(cond, msg):
    if not cond:
        problems.append(msg)
    return bool(cond)

def must(cond, msg):
    if not cond:
        problems.append(msg)
        raise Stop()

KINDS = {"definitely lost": "definite", "indirectly lost": "indirect",
         "possibly lost": "possible", "still reachable": "reachable"}
FRAME = re.compile(r"^\s+#(\d+) (0x[0-9a-f]+) in (.*?)(?: (\S+):(\d+))?"
                   r"(?: \(([^()]*)\+(0x[0-9a-f]+)\))?$")

def parse_log(path):
    text = open(path, errors="replace").read()
    L = {"path": path, "raw": text, "pids": set(), "other": [], "errors": [],
         "leaks": [], "summary": {}, "error_summary": None}
    cur = sec = None
    insum = False
    for raw in text.splitlines():
        m = re.match(r"^==(\d+)== ?(.*)$", raw)
        if not m:
            L["other"].append(raw)
            continue
        L["pids"].add(int(m.group(1)))
        l = m.group(2)
        if l == "":
            cur = sec = None
            continue
        m = re.match(r"ERROR: (\S+)$", l)
        if m:
            cur = {"kind": m.group(1), "lines": [], "stack": [],
                   "alloc_stack": [], "free_stack": [], "where": None}
            L["errors"].append(cur)
            sec = None
            continue
        m = re.match(r"(\d+) bytes in (\d+) blocks? (?:is|are) (definitely lost|"
                     r"indirectly lost|possibly lost|still reachable), "
                     r"allocated from:$", l)
        if m:
            cur = {"kind": KINDS[m.group(3)], "bytes": int(m.group(1)),
                   "blocks": int(m.group(2)), "stack": []}
            L["leaks"].append(cur)
            sec = "stack"
            continue
        if l == "LEAK SUMMARY:":
            insum = True
            cur = sec = None
            continue
        m = re.match(r"  (definitely lost|indirectly lost|possibly lost|"
                     r"still reachable) +(\d+) bytes in (\d+) blocks?", l)
        if insum and m:
            L["summary"][KINDS[m.group(1)]] = {"bytes": int(m.group(2)),
                                               "blocks": int(m.group(3))}
            continue
        m = re.match(r"ERROR SUMMARY: (\d+) errors?", l)
        if m:
            L["error_summary"] = int(m.group(1))
            insum = False
            continue
        # a clean process gets one line instead of the summaries
        m = re.match(r"mpwrap: no leaks, no errors \((\d+) bytes in (\d+) "
                     r"blocks? still reachable\)$", l)
        if m:
            for k in ("definite", "indirect", "possible"):
                L["summary"][k] = {"bytes": 0, "blocks": 0}
            L["summary"]["reachable"] = {"bytes": int(m.group(1)),
                                         "blocks": int(m.group(2))}
            L["error_summary"] = 0
            L["clean_line"] = True
            continue
        m = FRAME.match(l)
        if m and cur is not None and sec:
            cur[sec].append({"function": m.group(3), "file": m.group(4),
                             "line": int(m.group(5)) if m.group(5) else None,
                             "module": m.group(6)})
            continue
        if cur is not None and "lines" in cur:
            m = re.match(r"  (detected by|bad call to) (.+):$", l)
            s = re.match(r"  detected by the (.+) check$", l)
            if m:
                sec = "stack"
                cur["where"] = m.group(2)
            elif s:  # found by a sweep: no stack of its own
                sec = None
                cur["where"] = s.group(1)
            elif l == "  allocated by:":
                sec = "alloc_stack"
            elif l in ("  freed by:", "  first freed by:"):
                sec = "free_stack"
                cur["free_heading"] = l.strip()[:-1]
            else:
                cur["lines"].append(l)
    return L

def load(pid=None):
    """The JSON report and text log of process pid (default: the only one)."""
    if pid is None:
        js = sorted(glob.glob(os.path.join(RD, "r.*.json")))
        must(len(js) == 1, "expected one JSON report in the run dir, found %d: %s"
             % (len(js), [os.path.basename(j) for j in js]))
        pid = int(re.search(r"r\.(\d+)\.json$", js[0]).group(1))
    jp = os.path.join(RD, "r.%d.json" % pid)
    lp = os.path.join(RD, "r.%d.log" % pid)
    must(os.path.exists(jp), "no JSON report r.%d.json" % pid)
    must(os.path.exists(lp), "no text log r.%d.log" % pid)
    try:
        J = json.load(open(jp))
    except ValueError as e:
        must(False, "r.%d.json is not valid JSON: %s" % (pid, e))
    return J, parse_log(lp), pid

def fmt(fr):
    return "%s %s:%s" % (fr.get("function"), fr.get("file"), fr.get("line"))

def fmt_stack(st):
    return " | ".join(fmt(f) for f in st[:6]) or "(empty)"

def fn_match(want, got):
    if got is None:
        return False
    return want(got) if callable(want) else got == want

def site(what, stack, fn, file, line, idx=0):
    """stack[idx] (or, idx=None, the first frame named fn) is fn at file:line."""
    if idx is None:
        fr = next((f for f in stack if fn_match(fn, f.get("function"))), None)
    else:
        fr = stack[idx] if len(stack) > idx else None
    ok = (fr is not None and fn_match(fn, fr.get("function")) and
          (fr.get("file") or "").endswith("/" + file) and fr.get("line") == line)
    desc = fn if isinstance(fn, str) else "the expected function"
    need(ok, "%s: expected %s%s at %s:%d, stack is: %s" % (
        what, "" if idx is None else "frame #%d = " % idx, desc, file, line,
        fmt_stack(stack)))
    return fr

def summary_is(J, L, **want):
    """Both summaries: kind=(bytes, blocks) for each kind given."""
    for k, (b, n) in want.items():
        js = J["summary"]["leaks"].get(k)
        need(js == {"bytes": b, "blocks": n},
             "JSON summary %s is %s, expected %d bytes in %d blocks" % (k, js, b, n))
        ts = L["summary"].get(k)
        need(ts == {"bytes": b, "blocks": n},
             "LEAK SUMMARY %s is %s, expected %d bytes in %d blocks" % (k, ts, b, n))

def errors_are(J, L, kinds):
    jk = [e["kind"] for e in J["errors"]]
    tk = [e["kind"] for e in L["errors"]]
    need(jk == kinds, "JSON errors are %s, expected %s" % (jk, kinds))
    need(tk == kinds, "text log errors are %s, expected %s" % (tk, kinds))
    need(J["summary"]["errors"] == len(kinds),
         "JSON summary errors = %s, expected %d" % (J["summary"]["errors"], len(kinds)))
    need(L["error_summary"] == len(kinds),
         "ERROR SUMMARY says %s, expected %d" % (L["error_summary"], len(kinds)))

def leak_group(J, L, kind, fn, file, line, nbytes, nblocks, idx=0, caller=None):
    """The one group of `kind` allocated at fn file:line (called from
    `caller` when given), in JSON and text."""
    for src, groups in (("JSON", J["leaks"]), ("text", L["leaks"])):
        gs = [g for g in groups if g["kind"] == kind and any(
            fn_match(fn, f.get("function")) for f in g["stack"]) and (
            caller is None or any(f.get("function") == caller for f in g["stack"]))]
        if not need(len(gs) == 1, "%s: %d %s leak groups allocated by %s%s, "
                    "expected 1; groups: %s" % (src, len(gs), kind, fn,
                    " from " + caller if caller else "", [
                        (g["kind"], g["bytes"], g["blocks"], fmt_stack(g["stack"]))
                        for g in groups])):
            continue
        g = gs[0]
        need((g["bytes"], g["blocks"]) == (nbytes, nblocks),
             "%s: %s group is %d bytes in %d blocks, expected %d in %d" % (
                 src, kind, g["bytes"], g["blocks"], nbytes, nblocks))
        site("%s %s leak stack" % (src, kind), g["stack"], fn, file, line, idx)

def no_group(J, L, fn):
    for src, groups in (("JSON", J["leaks"]), ("text", L["leaks"])):
        gs = [(g["kind"], g["bytes"]) for g in groups if any(
            fn_match(fn, f.get("function")) for f in g["stack"])]
        need(not gs, "%s lists blocks allocated by %s: %s" % (src, fn, gs))


def run_checks():
    """Run the check code given on the command line against the reports;
    print the problems and exit 1 when there are any."""
    try:
        exec(sys.argv[1], globals())
    except Stop:
        pass
    except Exception as e:  # a broken report shape is a failure, not a crash
        problems.append("checker raised %s: %s" % (type(e).__name__, e))
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
