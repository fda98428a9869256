#!/usr/bin/env bash
# t_profile.sh - the heap profile by allocation site (profile=1).
#
# tests/progs/pf_sites.c has sites with known figures: a 1000-byte leak, a
# 4 MiB block held early and freed before the peak, one 10 MiB temporary,
# 1,000 x 64-byte temporaries, and 16 x 1 MiB live together at the
# process's peak.  Each site's allocations, bytes, peak contribution, live
# bytes, temporaries and leak kind left are asserted exactly in the JSON
# report's "profile" (at -O0 and -O2), at exit, at an mp_leak_check() and at
# SIGTERM; the heap-size series stays bounded and ends at the live bytes;
# scripts/mpwrap_folded.py turns the report into exact folded-stack lines.
#
# Environment (exported by `make test`; defaulted when run by hand):
#   MPWRAP_ROOT, MPWRAP_LIB, MPWRAP_TFLAGS as in t_preload.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_profile
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

cat >"$T/check.py" <<'PY'
import glob, json, os, sys
exec(open(os.path.join(os.environ["PROGS"], "checklib.py")).read())

MiB = 1 << 20

def report(suffix=""):
    paths = [p for p in glob.glob(os.path.join(RD, "r.*.json"))
             if p.endswith(suffix + ".json") and (suffix or ".check" not in p)]
    must(len(paths) == 1, "one JSON report%s, found %s" % (suffix, paths))
    return json.load(open(paths[0]))

def site_of(J, fn, line):
    got = [s for s in J["profile"]["sites"]
           if s["stack"] and s["stack"][0].get("function") == fn
           and s["stack"][0].get("line") == line
           and (s["stack"][0].get("file") or "").endswith("pf_sites.c")]
    must(len(got) == 1, "one site %s (pf_sites.c:%d), found %d" % (fn, line, len(got)))
    return got[0]

def figures(s):
    return (s["allocations"], s["bytes"], s["peak_bytes"], s["live_bytes"],
            s["live_blocks"], s["temporary"]["allocations"],
            s["temporary"]["bytes"], s["left"])

# (allocations, bytes, peak, live bytes, live blocks, temporaries, their
# bytes, left at exit by kind)
def want_sites(V, at_exit=True):
    left = {"definite": {"bytes": 1000, "blocks": 1}}
    return {
        ("leak_one", V["leak"]): (1, 1000, 1000, 1000, 1, 0, 0, left),
        ("hold_early", V["early"]): (1, 4 * MiB, 0, 0, 0, 0, 0, {}),
        ("big_temp", V["big"]): (1, 10 * MiB, 0, 0, 0, 1, 10 * MiB, {}),
        ("small_temps", V["small"]): (1000, 64000, 0, 0, 0, 1000, 64000, {}),
        ("peak_site", V["peak"]): (16, 16 * MiB, 16 * MiB, 0, 0, 0, 0, {}),
    }

def exact_sites(J):
    for (fn, line), want in want_sites(V).items():
        s = site_of(J, fn, line)
        need(figures(s) == want, "%s: %s, expected %s" % (fn, figures(s), want))
    P = J["profile"]
    t = P["totals"]
    need(t["peak_bytes"] == J["stats"]["peak_bytes"] == 16 * MiB + 1000,
         "peak: profile %d, stats %d, expected %d" % (t["peak_bytes"],
         J["stats"]["peak_bytes"], 16 * MiB + 1000))
    need(t["sites"] == len(P["sites"]), "totals.sites %d" % t["sites"])
    need(t["sites_not_counted"] == 0, "sites not counted")
    need(sum(s["allocations"] for s in P["sites"]) == t["allocations"]
         == J["stats"]["allocations"], "allocations: totals %d, stats %d"
         % (t["allocations"], J["stats"]["allocations"]))

def series_ok(J, most=1000):
    S = J["profile"]["series"]
    pts = S["points"]
    need(S["columns"] == ["us", "allocations", "bytes"], "columns %s" % S["columns"])
    need(2 <= len(pts) <= most + 1, "%d points" % len(pts))
    need(all(a[0] <= b[0] and a[1] <= b[1] for a, b in zip(pts, pts[1:])),
         "points not in order: %s" % pts[:5])
    t = J["profile"]["totals"]
    need(pts[-1][1] == t["allocations"] and pts[-1][2] == t["live_bytes"],
         "last point %s, totals %d allocations %d live" % (pts[-1],
         t["allocations"], t["live_bytes"]))
    return S

code = sys.argv[1]
try:
    exec(code)
except Stop:
    pass
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY

# ------------------------------------------------------------ build

F_O0="$MPWRAP_TFLAGS -I$P"
f=" $F_O0 "
f=${f// -O0 / }
F_O2="${f// -fno-optimize-sibling-calls / } -O2 -g -fno-omit-frame-pointer"
compile "$B/pf_sites.O0" "$T/cc.pf_sites.O0" $CC $F_O0 "$P/pf_sites.c" -o "$B/pf_sites.O0"
compile "$B/pf_sites.O2" "$T/cc.pf_sites.O2" $CC $F_O2 "$P/pf_sites.c" -o "$B/pf_sites.O2"
wait
built "build pf_sites at -O0" O0 pf_sites
built "build pf_sites at -O2" O2 pf_sites

LINES=""
for m in LEAK EARLY BIG SMALL PEAK; do
	LINES="$LINES ${m,,}=$(line_of "$P/pf_sites.c" "/* ${m}_SITE */")"
	LINES="$LINES c${m,,}=$(line_of "$P/pf_sites.c" "/* CALL_${m} */")"
done

# ------------------------------------------------------------ the tests

for o in O0 O2; do
	have "pf_sites.$o" "pf_sites -$o" || continue
	OPTS=profile=1 prun "exit.$o" "$B/pf_sites.$o"
	status_is "pf_sites -$o exits 0" 0 &&
	# shellcheck disable=SC2086
	check "profile at exit, -$o: every site's figures exact, peak = stats peak" '
J = report()
exact_sites(J)
series_ok(J)
' $LINES
done

if have pf_sites.O0 "pf_sites"; then
	prun noprof "$B/pf_sites.O0"
	check "no profile without profile=1" '
J = report()
need("profile" not in J, "profile present: %s" % list(J))
'

	OPTS=profile=1 prun check "$B/pf_sites.O0" check
	# shellcheck disable=SC2086
	check "profile in an mp_leak_check() report and at exit" '
C = report(".check1")
exact_sites(C)
series_ok(C)
exact_sites(report())
' $LINES

	OPTS=profile=1 prun term "$B/pf_sites.O0" term
	# shellcheck disable=SC2086
	check "profile in the report written at SIGTERM" '
J = report()
exact_sites(J)
' $LINES

	OPTS=profile=1 prun many "$B/pf_sites.O0" many
	# shellcheck disable=SC2086
	check "heap-size series: 101,019 allocations in at most 1000 points" '
J = report()
S = series_ok(J)
need(J["profile"]["totals"]["allocations"] == 101019, "allocations %d" % J["profile"]["totals"]["allocations"])
need(S["interval"] >= 101019 // 1000 and len(S["points"]) >= 300,
     "interval %d, %d points" % (S["interval"], len(S["points"])))
' $LINES

	# folded stacks from the exit report of the -O0 run
	RD=$T/run/exit.O0
	# shellcheck disable=SC2086
	check "mpwrap_folded.py: exact folded lines for peak, leaked, allocated, temporary" '
import subprocess
J = report()
sys.path.insert(0, os.path.join(os.environ["PROGS"], "..", "..", "scripts"))
import mpwrap_folded as mf
def fr(fn, l, cl):
    return "main (pf_sites.c:%d);%s (pf_sites.c:%d)" % (cl, fn, l)
L_ = fr("leak_one", V["leak"], V["cleak"])
E_ = fr("hold_early", V["early"], V["cearly"])
B_ = fr("big_temp", V["big"], V["cbig"])
S_ = fr("small_temps", V["small"], V["csmall"])
P_ = fr("peak_site", V["peak"], V["cpeak"])
want = {
    "peak": ["%s 1000" % L_, "%s 16777216" % P_],
    "leaked": ["%s 1000" % L_],
    "allocated": sorted(["%s 1000" % L_, "%s 4194304" % E_, "%s 10485760" % B_,
                         "%s 64000" % S_, "%s 16777216" % P_]),
    "temporary": sorted(["%s 10485760" % B_, "%s 64000" % S_]),
    "temporaries": sorted(["%s 1" % B_, "%s 1000" % S_]),
}
for m, w in want.items():
    got = mf.folded_lines(J, m)
    need(got == w, "%s: %s, expected %s" % (m, got, w))
path = glob.glob(os.path.join(RD, "r.*.json"))[0]
out = subprocess.run([sys.executable, mf.__file__, "--of", "leaked", path],
                     capture_output=True, text=True)
need(out.returncode == 0 and out.stdout == "%s 1000\n" % L_,
     "command line: %d %r %r" % (out.returncode, out.stdout, out.stderr))
out = subprocess.run([sys.executable, mf.__file__, "--per-process", path],
                     capture_output=True, text=True)
need(out.stdout.splitlines()[0].startswith("pf_sites.O0 [%d];main (" % J["pid"]),
     "per-process root: %r" % out.stdout[:200])
bad = subprocess.run([sys.executable, mf.__file__, os.path.join(RD, "out")],
                     capture_output=True, text=True)
need(bad.returncode == 2 and bad.stderr.count("\n") == 1,
     "bad input: %d %r" % (bad.returncode, bad.stderr))
' $LINES
	RD=$T/run/noprof
	check "mpwrap_folded.py: a report without a profile is one clear error" '
import subprocess
path = glob.glob(os.path.join(RD, "r.*.json"))[0]
mf = os.path.join(os.environ["PROGS"], "..", "..", "scripts", "mpwrap_folded.py")
out = subprocess.run([sys.executable, mf, path], capture_output=True, text=True)
need(out.returncode == 2 and "profile=1" in out.stderr and out.stderr.count("\n") == 1,
     "%d %r" % (out.returncode, out.stderr))
'
fi

# mpcheck --flamegraph: the same folded lines, from the run's own reports
if have pf_sites.O0 "pf_sites (mpcheck --flamegraph)"; then
	fg=$T/run/pf.folded
	(cd "$T" && MPWRAP_LIB=$MPWRAP_LIB timeout -k 5 120 "$MPWRAP_ROOT/scripts/mpcheck" \
		--quiet --flamegraph "$fg" --flamegraph-of leaked "$B/pf_sites.O0" \
		>/dev/null 2>"$T/run/fg.err")
	frc=$?
	want="main (pf_sites.c:$(line_of "$P/pf_sites.c" "/* CALL_LEAK */"));leak_one (pf_sites.c:$(line_of "$P/pf_sites.c" "/* LEAK_SITE */")) 1000"
	if [ "$frc" = 23 ] && [ "$(cat "$fg")" = "$want" ]; then
		pass "mpcheck --flamegraph --flamegraph-of leaked: the leak's folded line, exact"
	else
		fail "mpcheck --flamegraph --flamegraph-of leaked: the leak's folded line, exact" \
			"status $frc" "got: $(head -3 "$fg" 2>/dev/null)" "want: $want" "$(tail -3 "$T/run/fg.err")"
	fi
	printf 'my notes\n' >"$T/run/notes.txt"
	if (cd "$T" && "$MPWRAP_ROOT/scripts/mpcheck" --flamegraph "$T/run/notes.txt" "$B/pf_sites.O0" \
		>/dev/null 2>"$T/run/fg2.err"); then frc=0; else frc=$?; fi
	if [ "$frc" = 125 ] && [ "$(cat "$T/run/notes.txt")" = "my notes" ] &&
	   grep -q "not replacing" "$T/run/fg2.err"; then
		pass "mpcheck --flamegraph never replaces a file that is not folded stacks"
	else
		fail "mpcheck --flamegraph never replaces a file that is not folded stacks" "status $frc" "$(cat "$T/run/fg2.err")"
	fi
fi

echo "1..$n"
echo "# $failed of $n failed; $((SECONDS - start)) s"
[ "$failed" -eq 0 ]
