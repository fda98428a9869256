#!/usr/bin/env bash
# t_stress.sh - stress tests of libmpwrap.so (LD_PRELOAD) and of the mp_* API
# (libmempool.a), run by `make test`.  Prints TAP; exits non-zero on failure.
#
# Programs (tests/stress/st_*.c, built here with cc -O2 -g):
#   st_threads      64 threads of malloc/calloc/realloc/free storms
#   st_fork         fork() while 8 threads allocate; children allocate, free
#                   and exit() (each writes its own JSON report); hang check
#   st_signals      alarm: SIGALRM every 100 us (handler never allocates)
#                   while the main loop allocates; usr1-safe: a SIGUSR1
#                   handler calls malloc/free whenever the main thread is
#                   not inside an allocator call (must work); usr1: the
#                   handler calls malloc/free whenever it runs (not
#                   async-signal-safe: only a crash or an error report
#                   fails; a deadlock is reported, with the same program's
#                   behaviour under glibc alone for comparison;
#                   STRESS_USR1_STRICT=1 makes a deadlock a failure)
#   st_dlopen       dlopen/dlclose x200 of a library (st_dlib.c) that
#                   allocates and frees; 4 of its blocks are kept until exit
#   st_thread_exit  threads exit holding blocks; the main thread frees them
#   st_scan_churn   leak checks (mp_leak_check) while 4 threads churn with
#                   quarantine_mb=0 (their freed slots in per-thread caches):
#                   each finds exactly the main thread's 100 lost blocks
#   st_10m          10 million live blocks through mp_* with libmempool.a
#
# Each preload run writes MPWRAP_OPTIONS json_path reports; "the books
# balance" means, in every JSON report of the run:
#   stats.allocations - stats.frees == sum(classes[].in_use) + large.blocks
#   (= in_use_total), in_use_total - keep is between 0 and STRESS_RESIDUE
#   (blocks libc, the loader and stdio keep for themselves; keep = blocks the
#   program deliberately holds at exit, printed by the program), zero errors
#   (summary.errors and the errors list), no definitely/indirectly lost leak
#   (not checked in fork children, see docs/hardening.md).
#
# Knobs (environment; defaults keep the whole run near 60 s on 2 cores):
#   STRESS_THREADS=64 STRESS_OPS=100000 (per thread)
#   STRESS_CHILDREN=20 STRESS_FORK_THREADS=8
#   STRESS_SIGNAL_SECONDS=3   STRESS_DLOPEN=200   STRESS_EXIT_ROUNDS=300
#   STRESS_BLOCKS=10000000    STRESS_MIXED_BLOCKS=1000000
#   STRESS_TIMEOUT=120 (seconds per program)   STRESS_RESIDUE=64
# MPWRAP_ROOT, MPWRAP_LIB as for the other shell tests.
set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${MPWRAP_ROOT:=$(cd "$here/.." && pwd)}"
: "${MPWRAP_LIB:=$MPWRAP_ROOT/libmpwrap.so}"
CC=${CC:-cc}
unset LD_PRELOAD MPWRAP_OPTIONS
export LC_ALL=C

THREADS=${STRESS_THREADS:-64}
OPS=${STRESS_OPS:-100000}
CHILDREN=${STRESS_CHILDREN:-20}
FORK_THREADS=${STRESS_FORK_THREADS:-8}
SIG_SECS=${STRESS_SIGNAL_SECONDS:-3}
DLOPEN=${STRESS_DLOPEN:-200}
EXIT_ROUNDS=${STRESS_EXIT_ROUNDS:-300}
BLOCKS=${STRESS_BLOCKS:-10000000}
MIXED=${STRESS_MIXED_BLOCKS:-1000000}
TO=${STRESS_TIMEOUT:-120}
RESIDUE=${STRESS_RESIDUE:-64}

S=$MPWRAP_ROOT/tests/stress
T=$(mktemp -d "${TMPDIR:-/tmp}/t_stress.XXXXXX")
trap 'rm -rf "$T"' EXIT
B=$T/bin
mkdir -p "$B" "$T/run"
start=$SECONDS

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l"; done | head -n 40 | sed 's/^/#   /'
}

for f in "$MPWRAP_LIB" "$MPWRAP_ROOT/libmempool.a"; do
	if [ ! -f "$f" ]; then
		fail "$f exists" "run make first"
		echo "1..$n"
		exit 1
	fi
done

# ---- build ---------------------------------------------------------------
CFLAGS_ST="-g -O2 -std=gnu11 -Wall -Wextra -Werror -pthread -I$S -I$MPWRAP_ROOT/include"
build_ok=1
build() { # build NAME CMD...
	local name=$1
	shift
	if ! "$@" >"$T/build.$name" 2>&1; then
		fail "build $name" "$(cat "$T/build.$name")"
		build_ok=0
	fi
}
for p in st_threads st_fork st_signals st_thread_exit st_scan_churn; do
	build "$p" $CC $CFLAGS_ST "$S/$p.c" -o "$B/$p"
done
build st_dlopen $CC $CFLAGS_ST "$S/st_dlopen.c" -ldl -o "$B/st_dlopen"
build st_dlib $CC $CFLAGS_ST -fPIC -shared "$S/st_dlib.c" -o "$B/libst_dlib.so"
build st_10m $CC $CFLAGS_ST "$S/st_10m.c" "$MPWRAP_ROOT/libmempool.a" \
	-lunwind -ldw -lelf -ldl -o "$B/st_10m"
if [ "$build_ok" = 1 ]; then
	pass "build the stress programs ($((SECONDS - start)) s)"
else
	echo "1..$n"
	exit 1
fi

# ---- helpers --------------------------------------------------------------

# prun ID TIMEOUT PROG ARGS...: PROG under the preload, reports in
# $T/run/ID (= $RD), stdout+stderr in $RD/out; sets $rc and $secs.
prun() {
	local id=$1 to=$2
	shift 2
	RD=$T/run/$id
	mkdir -p "$RD"
	local t0
	t0=$(date +%s.%N)
	timeout -k 5 "$to" env LD_PRELOAD="$MPWRAP_LIB" \
		MPWRAP_OPTIONS="json_path=$RD/r.%p.json:log_path=$RD/r.%p.log${OPTS:+:$OPTS}" \
		"$@" >"$RD/out" 2>&1
	rc=$?
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}

# val KEY: KEY's value on the program's last "# ... KEY=value" line
val() {
	grep '^# ' "$RD/out" | grep -v '^# FAIL' | tail -1 |
		tr ' ' '\n' | sed -n "s/^$1=//p" | head -1
}

# books KEEP [MAIN_PID]: check every JSON report in $RD (see the header);
# prints one summary line (the main process's, or the only one's) and
# problem lines after it.  MAIN_PID: only that process must be leak-free.
books() {
	python3 - "$RD" "$1" "$RESIDUE" "${2:-}" <<'EOF'
import glob, json, os, sys
rd, keep, residue, main_pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
files = sorted(glob.glob(os.path.join(rd, "r.*.json")))
problems, summary = [], None
if not files:
    problems.append("no JSON report written")
for f in files:
    try:
        d = json.load(open(f))
    except Exception as e:
        problems.append(f"{os.path.basename(f)}: unreadable JSON: {e}")
        continue
    s = d["stats"]
    in_use = sum(c["in_use"] for c in s["classes"]) + s["large"]["blocks"]
    a, fr = s["allocations"], s["frees"]
    errs = d["summary"]["errors"]
    leaks = d["summary"]["leaks"]
    lost = leaks["definite"]["blocks"] + leaks["indirect"]["blocks"]
    pid = str(d.get("pid"))
    is_main = (pid == main_pid) if main_pid else True
    k = keep if is_main else 0
    line = (f"allocations={a} frees={fr} in_use_total={in_use} "
            f"(allocations-frees={a - fr}) kept={k} libc_residue={in_use - k} "
            f"errors={errs} reachable={leaks['reachable']['blocks']} lost={lost}")
    name = os.path.basename(f)
    if a - fr != in_use:
        problems.append(f"{name}: books do not balance: {line}")
    if not main_pid or is_main:
        if not 0 <= in_use - k <= residue:
            problems.append(f"{name}: {in_use} blocks in use at exit, "
                            f"{k} kept, residue not within 0..{residue}")
        if lost:
            problems.append(f"{name}: {lost} blocks definitely/indirectly lost")
    if errs or d["errors"]:
        problems.append(f"{name}: {errs} errors: "
                        + "; ".join(e["kind"] for e in d["errors"][:5]))
    if is_main:
        summary = line
print(f"{summary} [{len(files)} report(s)]")
for p in problems[:20]:
    print(p)
sys.exit(1 if problems else 0)
EOF
}

# check_run NAME KEEP [MAIN_PID]: TAP line for a preload run in $RD
check_run() {
	local name=$1 keep=$2 pid=${3:-} b
	b=$(books "$keep" "$pid")
	local brc=$?
	if [ "$rc" -eq 0 ] && [ "$brc" -eq 0 ]; then
		pass "$name; books balance: $(printf '%s\n' "$b" | head -1); ${secs} s"
	else
		fail "$name (exit $rc, ${secs} s)" "$b" "--- program output:" \
			"$(tail -20 "$RD/out")" "--- report:" \
			"$(cat "$RD"/r.*.log 2>/dev/null | grep -v '^==[0-9]*== *#' | head -30)"
	fi
}

# ---- 1. threads -------------------------------------------------------------
prun threads "$TO" "$B/st_threads" "$THREADS" "$OPS"
check_run "threads: $THREADS threads x $OPS ops (malloc=$(val malloc) calloc=$(val calloc) realloc=$(val realloc) free=$(val free))" 0

# ---- 2. fork while other threads allocate --------------------------------
prun fork "$TO" "$B/st_fork" "$CHILDREN" "$FORK_THREADS" 20
check_run "fork: $CHILDREN children (each 2000 malloc/free from 1+4 threads, exit() with report) forked while $FORK_THREADS threads ran $(val thread_ops) ops, $(val hangs) hangs, slowest child $(val slowest_child) s" 0 "$(val pid)"

# ---- 3. signals -------------------------------------------------------------
prun alarm $((SIG_SECS + 30)) "$B/st_signals" alarm "$SIG_SECS"
check_run "signals/alarm: $(val signals) SIGALRMs (handler does not allocate) during $(val ops) malloc/realloc/free" 0

prun usr1safe $((SIG_SECS + 30)) "$B/st_signals" usr1-safe "$SIG_SECS"
check_run "signals/usr1-safe: $(val signals) SIGUSR1 handlers called malloc/free between the main loop's $(val ops) allocator calls ($(val skipped) signals that hit inside one did not allocate)" 0

prun usr1 $((SIG_SECS + 5)) "$B/st_signals" usr1 "$SIG_SECS"
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	# the handler interrupted the allocator while it held a lock: allowed
	# (malloc is not async-signal-safe); compare with glibc alone
	g_hang=0
	for i in 1 2; do
		timeout -k 2 $((SIG_SECS + 3)) "$B/st_signals" usr1 "$SIG_SECS" >/dev/null 2>&1
		g=$?
		if [ "$g" -eq 124 ] || [ "$g" -eq 137 ]; then
			g_hang=$((g_hang + 1))
		fi
	done
	errs=$(cat "$RD"/r.*.log 2>/dev/null | grep -c 'ERROR:')
	if [ -n "${STRESS_USR1_STRICT:-}" ]; then
		fail "signals/usr1: deadlocked inside the allocator (STRESS_USR1_STRICT set; glibc alone deadlocked in $g_hang of 2 runs)"
	elif [ "$errs" -eq 0 ]; then
		pass "signals/usr1: SIGUSR1 handler calling malloc/free deadlocked inside the allocator, killed after $((SIG_SECS + 5)) s (allowed: malloc is not async-signal-safe; glibc alone deadlocked in $g_hang of 2 runs of the same program); no crash, no error report"
	else
		fail "signals/usr1: deadlocked and reported $errs errors" \
			"$(cat "$RD"/r.*.log | head -30)"
	fi
elif [ "$rc" -ge 128 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; }; then
	fail "signals/usr1: crashed (exit $rc, ${secs} s)" "$(tail -20 "$RD/out")"
else
	check_run "signals/usr1: $(val signals) SIGUSR1s whose handler calls malloc/free during $(val ops) malloc/realloc/free, no deadlock this time" 0
fi

# ---- 4. dlopen/dlclose -----------------------------------------------------
OPTS=show_reachable=1 prun dlopen "$TO" "$B/st_dlopen" "$B/libst_dlib.so" "$DLOPEN" 50
keep=$(val keep)
check_run "dlopen/dlclose x$DLOPEN of a library that allocates and frees ($(val lib_blocks) blocks), $keep kept" "${keep:-0}"
# the kept blocks' stacks lie in the closed library: still symbolized
if [ "$rc" -eq 0 ]; then
	sym=$(grep -c 'in st_dlib_alloc .*st_dlib.c' "$RD"/r.*.log)
	if [ "$sym" -ge "${keep:-1}" ]; then
		pass "dlopen: the $keep blocks kept past dlclose are reported with their stacks in the closed library ($sym frames st_dlib_alloc st_dlib.c:N)"
	else
		fail "dlopen: kept blocks' allocation stacks symbolized" \
			"$(cat "$RD"/r.*.log | head -40)"
	fi
fi

# ---- 5. threads exiting while holding blocks -----------------------------
prun thread_exit "$TO" "$B/st_thread_exit" "$EXIT_ROUNDS" 16 200
check_run "thread exit: $(val threads) threads exited holding blocks, main freed $(val blocks_freed_by_main), $(val key_frees) freed by pthread key destructors" 0

# ---- 5b. leak checks while other threads churn ------------------------------
# (the program leaks on purpose: its own verdicts, not the books, decide)
OPTS=quarantine_mb=0 prun scan_churn "$TO" "$B/st_scan_churn" 20 4 100
if [ "$rc" -eq 0 ] && [ "$(val bad)" = 0 ]; then
	pass "leak checks while threads churn: $(val checks) checks during $(val ops) malloc/free of $(val threads) threads each found exactly the $(val leaks) lost blocks; ${secs} s"
else
	fail "leak checks while threads churn (exit $rc, ${secs} s)" "$(tail -20 "$RD/out")"
fi

# ---- 6. ten million live blocks (mp_* API) ----------------------------------
run_api() { # run_api ID BLOCKS MAXSIZE
	RD=$T/run/$1
	mkdir -p "$RD"
	local t0
	t0=$(date +%s.%N)
	timeout -k 5 "$TO" env MPWRAP_OPTIONS="log_path=$RD/log" \
		"$B/st_10m" "$2" "$3" >"$RD/out" 2>&1
	rc=$?
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}
for spec in "10m $BLOCKS 32" "mixed $MIXED 1024"; do
	set -- $spec
	run_api "$1" "$2" "$3"
	phases=$(grep '^# phase=' "$RD/out")
	if [ "$rc" -eq 0 ] && ! grep -q '^# FAIL' "$RD/out"; then
		pass "mp_* API: $2 live blocks of 1..$3 bytes allocated then freed; books balance (allocs=$(val allocs) frees=$(val frees), in_use $2 then 0), mp_check 0, mp_dump_leaks $2, 0 errors; ${secs} s"
		printf '%s\n' "$phases" | sed 's/^# /#   /'
	else
		fail "mp_* API: $2 live blocks of 1..$3 bytes (exit $rc, ${secs} s)" \
			"$(cat "$RD/out")" "$(tail -5 "$RD/log" 2>/dev/null)"
	fi
done

# ---- 7. issue 12 reproducers: fatal signals, abort_on_error, report files
# shellcheck source=stress/reliable.sh
. "$S/reliable.sh"

echo "# total $((SECONDS - start)) s"
echo "1..$n"
[ "$failed" -eq 0 ]
