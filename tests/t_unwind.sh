#!/usr/bin/env bash
# t_unwind.sh - the fast stack walker (src/stack/unwind.c) against libunwind (TAP).
#
# With MPWRAP_OPTIONS=unwinder=2 every capture is taken by both unwinders
# and compared frame by frame; each process then says at exit
#   mpwrap: unwinder compare: N captures, M mismatches, K left to libunwind (...)
# uw_repeat.c (one call site along changing paths: the walker's replays
# and the depot ids kept beside them) must give the leak groups libunwind
# gives (unwinder=0).
# Checked on: tests/progs/uw_deep.c (deep recursion through function
# pointers, big frames, a small-stack thread, signal handlers, sigaltstack,
# a makecontext stack, a realigned frame) built with frame pointers (the
# suite's flags), without (gcc -O2 -fomit-frame-pointer) and with clang;
# the project's own test programs (tests/progs/pl_*, lk_*) with and without
# frame pointers; and real programs (python3, git, sort, gcc).  Every run
# must compare more than zero captures with zero mismatches.  Under the
# default unwinder the leak of uw_deep must carry its exact 10-frame stack,
# and the statistics line must show the fast walker did the work.
#
# Env (exported by `make test`, defaulted by hand): MPWRAP_ROOT, MPWRAP_LIB,
# MPWRAP_TFLAGS (the suite's -O0 frame-pointer flags), CC, CXX.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_unwind
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

cat >"$T/check.py" <<'PY'
import os
exec(open(os.path.join(os.environ["PROGS"], "checklib.py")).read())

CMP = re.compile(r"^==(\d+)== mpwrap: unwinder compare: (\d+) captures, "
                 r"(\d+) mismatches, (\d+) left to libunwind(?: \((.*)\))?")
STATS = re.compile(r"^==(\d+)== mpwrap: unwinder: (\d+) pcs cached .*?; "
                   r"(\d+) left to libunwind(?: \((.*)\))?")
MISMATCH = re.compile(r"^==\d+== mpwrap: unwinder mismatch at frame")

def reasons(s):
    """'26 outside the thread's stack, 8 no usable rule' -> dict"""
    out = {}
    for part in (s or "").split(", "):
        m = re.match(r"(\d+) (.+)$", part)
        if m:
            out[m.group(2)] = int(m.group(1))
    return out

def compare_runs(rd=None):
    """Every compare line and mismatch line of the run's logs."""
    runs, bad = [], []
    for lp in sorted(glob.glob(os.path.join(rd or RD, "r.*.log"))):
        for l in open(lp, errors="replace"):
            m = CMP.match(l)
            if m:
                runs.append({"pid": int(m.group(1)), "captures": int(m.group(2)),
                             "mismatches": int(m.group(3)),
                             "declined": int(m.group(4)),
                             "why": reasons(m.group(5))})
            elif MISMATCH.match(l):
                bad.append(l.strip())
    return runs, bad

# A walk the fast unwinder gives up on is not compared, so "no mismatch"
# alone would pass a walker that gives up everywhere: only the reasons that
# are no fault of the walker are allowed, and only for a few captures.
EXCUSED = ("outside the thread\x27s stack", "no usable rule")

def check_declined(what, declined, why, captures, max_frac):
    odd = {k: v for k, v in why.items() if k not in EXCUSED}
    need(not odd, "%s: walks given up for no good reason: %s" % (what, odd))
    need(declined <= max_frac * max(captures, 1),
         "%s: %d of %d captures left to libunwind (%s)" % (what, declined, captures, why))

def all_agree(min_procs=1, max_frac=0.05):
    runs, bad = compare_runs()
    need(len(runs) >= min_procs, "%d processes printed a compare line, expected "
         ">= %d (logs: %s)" % (len(runs), min_procs,
                               os.listdir(RD)))
    need(sum(r["captures"] for r in runs) > 0, "no capture was compared: %s" % runs)
    need(all(r["mismatches"] == 0 for r in runs) and not bad,
         "the unwinders disagree: %s; first lines: %s" % (
             [(r["pid"], r["captures"], r["mismatches"]) for r in runs], bad[:5]))
    for r in runs:
        check_declined("pid %d" % r["pid"], r["declined"], r["why"], r["captures"], max_frac)
    return runs

run_checks()
PY

# ------------------------------------------------------------ build

NOFP="-g -O2 -fomit-frame-pointer -std=gnu11 -Wall -Wextra -Werror -Iinclude -pthread -I$P"
FP="$MPWRAP_TFLAGS -I$P"
VARIANTS="fp nofp"
compile uw_deep.fp "$T/cc.uw_deep.fp" $CC $FP "$P/uw_deep.c" -o "$B/uw_deep.fp"
compile uw_deep.nofp "$T/cc.uw_deep.nofp" $CC $NOFP "$P/uw_deep.c" -o "$B/uw_deep.nofp"
compile uw_repeat.fp "$T/cc.uw_repeat.fp" $CC $FP "$P/uw_repeat.c" -o "$B/uw_repeat.fp"
compile uw_repeat.nofp "$T/cc.uw_repeat.nofp" $CC $NOFP "$P/uw_repeat.c" -o "$B/uw_repeat.nofp"
compile uw_getattr "$T/cc.uw_getattr" $CC $NOFP "$P/uw_getattr.c" -o "$B/uw_getattr"
if command -v clang >/dev/null 2>&1; then
	VARIANTS="$VARIANTS clang"
	compile uw_deep.clang "$T/cc.uw_deep.clang" clang $NOFP "$P/uw_deep.c" \
		-o "$B/uw_deep.clang"
	compile uw_repeat.clang "$T/cc.uw_repeat.clang" clang $NOFP "$P/uw_repeat.c" \
		-o "$B/uw_repeat.clang"
fi

# the project's programs: every single-file one, plus pl_dlopen's library
# (dlopen, dlclose: the rule table is flushed) and the C++ one
PROGS=""
for f in "$P"/pl_*.c "$P"/lk_*.c; do
	p=$(basename "$f" .c)
	case $p in pl_dlib | lk_solib | lk_solib_lib) continue ;; esac
	PROGS="$PROGS $p"
done
for v in fp nofp; do
	case $v in fp) f=$FP ;; *) f=$NOFP ;; esac
	for p in $PROGS; do
		compile "$p.$v" "$T/cc.$p.$v" $CC $f "$P/$p.c" -o "$B/$p.$v" -ldl
	done
	compile "libpldl.$v" "$T/cc.libpldl.$v" $CC $f -shared -fPIC "$P/pl_dlib.c" \
		-o "$B/libpldl.$v.so"
	fx=" $f "
	fx=${fx// -std=gnu11 / -std=gnu++17 }
	compile "pl_cxx.$v" "$T/cc.pl_cxx.$v" $CXX $fx "$P/pl_cxx.cc" -o "$B/pl_cxx.$v"
done
wait

for v in $VARIANTS; do
	errs=""
	for p in uw_deep uw_repeat $([ "$v" != clang ] && echo "$PROGS libpldl pl_cxx"); do
		[ "$(cat "$T/cc.$p.$v.rc" 2>/dev/null)" = 0 ] ||
			errs="$errs$p: $(head -c 300 "$T/cc.$p.$v")
"
	done
	if [ -z "$errs" ]; then pass "build the test programs ($v)"
	else fail "build the test programs ($v)" "$errs"; fi
done

# ------------------------------------------------------------ the checker

# The comparison check must be able to fail: feed it a log with a mismatch.
RD=$T/run/selftest
mkdir -p "$RD"
printf '%s\n' "==7== mpwrap: unwinder mismatch at frame 3: fast 0x1 libunwind 0x2 (5 and 5 frames)" \
	"==7== mpwrap: unwinder compare: 9 captures, 1 mismatches, 0 left to libunwind" >"$RD/r.7.log"
if RD=$RD PROGS=$P python3 "$T/check.py" 'all_agree()' >/dev/null 2>&1; then
	fail "the compare check rejects a log with a mismatch (self-test)"
else
	pass "the compare check rejects a log with a mismatch (self-test)"
fi

# ------------------------------------------------------------ uw_deep

L_LEAK=$(line_of "$P/uw_deep.c" "/* UW_LEAK_SITE */")
L_LEAF=$(line_of "$P/uw_deep.c" "/* UW_LEAF_CALL */")
L_SMALL=$(line_of "$P/uw_deep.c" "/* UW_SMALL_CALL */")
L_BIG=$(line_of "$P/uw_deep.c" "/* UW_BIG_CALL */")

for v in $VARIANTS; do
	have "uw_deep.$v" "uw_deep ($v)" || continue

	name="uw_deep ($v): unwinder=2 compares every capture, no mismatch"
	OPTS=unwinder=2 prun "deep.cmp.$v" "$B/uw_deep.$v"
	status_is "$name" 0 && check "$name" '
runs = all_agree(max_frac=0.25)
need(len(runs) == 1, "expected one process, got %s" % runs)
r = runs[0]
need(r["captures"] >= 150, "only %d captures compared" % r["captures"])
# the signal frames, the realigned frame (gcc), sigaltstack and the
# coroutine stack must have been handed to libunwind, not walked
need(r["why"].get("outside the thread\x27s stack", 0) > 0,
     "no capture was left to libunwind for being off the thread stack: %s" % r)
need(r["why"].get("no usable rule", 0) > 0,
     "no capture was left to libunwind for a frame without a usable rule: %s" % r)
'

	name="uw_deep ($v): default unwinder, the leak has its exact 10-frame stack"
	OPTS=verbosity=2 prun "deep.fast.$v" "$B/uw_deep.$v"
	status_is "$name" 0 && check "$name" '
J, L, pid = load()
leak_group(J, L, "definite", "leaf_leak", "uw_deep.c", V["leak"], 77, 1)
for src, groups in (("JSON", J["leaks"]), ("text", L["leaks"])):
    g = [g for g in groups if g["bytes"] == 77]
    if not g:
        continue
    st = g[0]["stack"]
    need(len(st) == 10, "%s: %d frames, expected 10: %s" % (src, len(st), fmt_stack(st)))
    site(src + " #0", st, "leaf_leak", "uw_deep.c", V["leak"], 0)
    site(src + " #1", st, "small_level", "uw_deep.c", V["leaf"], 1)
    for k in range(2, min(len(st), 10)):
        fn, line = ("big_level", V["big"]) if k % 2 == 0 else ("small_level", V["small"])
        site(src + " #%d" % k, st, fn, "uw_deep.c", line, k)
m = [STATS.match(l) for l in L["raw"].splitlines()]
m = [x for x in m if x]
must(len(m) == 1, "no (or several) unwinder statistics lines at verbosity=2")
need(int(m[0].group(2)) >= 20, "the fast walker cached only %s pcs" % m[0].group(2))
why = reasons(m[0].group(4))
check_declined("default unwinder", int(m[0].group(3)), why, 250, 0.25)
' leak="$L_LEAK" leaf="$L_LEAF" small="$L_SMALL" big="$L_BIG"
done

# ------------------------------------------------------------ uw_repeat

# The fast walker's replays and the depot ids kept beside them (stack.c)
# against libunwind (unwinder=0, no replay, no memo): the same leak groups,
# frame for frame, from one call site reached along changing paths.
for v in $VARIANTS; do
	name="uw_repeat ($v): the default unwinder's leak groups are libunwind's (unwinder=0)"
	have "uw_repeat.$v" "$name" || continue
	OPTS=unwinder=0 prun "repeat.ref.$v" "$B/uw_repeat.$v"
	ref=$RD
	OPTS=verbosity=2 prun "repeat.fast.$v" "$B/uw_repeat.$v"
	status_is "$name" 0 && check "$name" '
import glob, json
def groups(j):
    return sorted((g["kind"], g["bytes"], g["blocks"],
                   tuple((f.get("function"), f.get("file"), f.get("line")) for f in g["stack"]))
                  for g in j["leaks"])
J, L, pid = load()
refs = glob.glob(os.path.join(V["ref"], "r.*.json"))
must(len(refs) == 1, "unwinder=0 run: %d JSON reports" % len(refs))
R = json.load(open(refs[0]))
fast, slow = groups(J), groups(R)
need(len(fast) >= 8 and sum(g[2] for g in fast) == 400,
     "expected 400 leaked blocks in >= 8 groups, got %s" % [(g[1], g[2]) for g in fast])
need(fast == slow, "leak groups differ: default %s, unwinder=0 %s" % (
    [g for g in fast if g not in slow][:3], [g for g in slow if g not in fast][:3]))
m = [x for x in (STATS.match(l) for l in L["raw"].splitlines()) if x]
must(len(m) == 1, "no (or several) unwinder statistics lines at verbosity=2")
need(int(m[0].group(3)) == 0, "the fast walker left %s walks to libunwind" % m[0].group(3))
' ref="$ref"
done

# ------------------------------------------------------------ tests/progs

for v in fp nofp; do
	for p in $PROGS pl_cxx; do
		name="$p ($v): unwinder=2, no mismatch"
		have "$p.$v" "$name" || continue
		args=()
		case $p in pl_dlopen) args=("$B/libpldl.$v.so") ;; esac
		OPTS=unwinder=2 prun "progs.$p.$v" "$B/$p.$v" "${args[@]}"
		check "$name" 'all_agree()'
	done
done

# ------------------------------------------------------------ real programs

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
cat >"$T/work.py" <<'PY'
import json, threading, zlib
d = [{"k": i, "v": str(i) * 50} for i in range(20000)]
s = json.dumps(d)
assert json.loads(s) == d
def f():
    return sorted(str(x) * 20 for x in range(30000))
ts = [threading.Thread(target=f) for _ in range(3)]
[t.start() for t in ts]
[t.join() for t in ts]
print(len(zlib.compress(s.encode())) > 0)
PY
seq 1 20000 | sed 's/$/ line/' >"$T/lines"

real() { # real ID NAME MIN_PROCS CMD...  (ID: no blanks, it goes into the options)
	local id=$1 name=$2 min=$3
	shift 3
	OPTS=unwinder=2 prun "real.$id" "$@"
	status_is "$name: unwinder=2, no mismatch" 0 &&
		check "$name: unwinder=2, no mismatch" "all_agree($min)"
}
# pthread_getattr_np reallocs under the thread's own lock: a first capture
# inside it must not ask it again (it deadlocked); bounded by a timeout
if have uw_getattr "pthread_getattr_np from new threads"; then
	out=$(cd "$T" && LD_PRELOAD="$MPWRAP_LIB" timeout 20 "$B/uw_getattr" 2>"$T/getattr.err")
	rc=$?
	if [ $rc -eq 0 ] && [ "$out" = "bounds ok" ] &&
		grep -q "77 bytes in 1 block.*definitely lost\|definitely lost.*77 bytes\|77 bytes in 1 block is definitely lost" "$T/getattr.err"; then
		pass "pthread_getattr_np from new threads: no deadlock, leak still reported"
	else
		fail "pthread_getattr_np from new threads: no deadlock, leak still reported" \
			"exit status $rc (124: hung), stdout '$out'" "$(head -c 400 "$T/getattr.err")"
	fi
fi

real python "python3 (json, threads, zlib)" 1 "$PY" "$T/work.py"
real git "git --version" 1 git --version
real sort "sort -R of 20000 lines" 1 sort -R "$T/lines" -o sorted
real gcc "gcc -O2 -c uw_deep.c (cc1, as)" 3 $CC -O2 -g -I"$P" -c "$P/uw_deep.c" -o uw.o

echo "1..$n"
echo "# $failed of $n failed; $((SECONDS - start)) s"
[ "$failed" -eq 0 ]
