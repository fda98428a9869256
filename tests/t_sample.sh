#!/usr/bin/env bash
# t_sample.sh - sampled mode, sample_rate=N (TAP): the C library serves
# every allocation but one in N, which sits in a guarded slot; a bug on a
# sampled block is reported as the full mode reports it (title, locating
# line, stacks with function names), at the faulting access for overflow,
# underflow and use after free; double and invalid frees are reported and
# the program goes on.  Fork, threads, exit status, the cost of the
# unsampled path counted (no stack taken for it), and the detection rate
# of a bug at a site run 20,000 times (every one of SAMPLE_RUNS runs).
#
# Environment: MPWRAP_ROOT, MPWRAP_LIB, MPWRAP_TFLAGS as in t_preload.sh;
# SAMPLE_RUNS (default 20) runs per detection-rate check.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_sample
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

# shellcheck disable=SC2086
(cd "$MPWRAP_ROOT" && $CC $MPWRAP_TFLAGS -I"$P" -o "$B/sm_bugs" "$P/sm_bugs.c") \
	>"$T/cc.log" 2>&1 && pass "sm_bugs builds" ||
	{ fail "sm_bugs builds" "$(head -c 600 "$T/cc.log")"; echo "1..$n"; exit 1; }
S=$B/sm_bugs
SRC=$P/sm_bugs.c

# has NAME FILE PATTERN...: every extended regex is in FILE.
has() {
	local name=$1 file=$2 pat miss=""
	shift 2
	for pat in "$@"; do
		grep -Eq -- "$pat" "$file" 2>/dev/null || miss="$miss
missing: $pat"
	done
	if [ -z "$miss" ]; then pass "$name"
	else fail "$name" "$miss" "(exit status $rc)" "$(head -c 900 "$file" 2>/dev/null)"; fi
}

log() { cat "$RD"/r.*.log 2>/dev/null; }

# ------------------------------------------- 1. each kind, at the access

OPTS=sample_rate=1000
prun uaf_write "$S" uaf_write
log >"$RD/all"
l=$(line_of "$SRC" MARK-UAF-WRITE)
has "use after free (write): reported at the access with the three stacks" "$RD/all" \
	"ERROR: use-after-free" "write at offset 8 .* of the freed 100-byte block .*caught by a guard page" \
	"#0 .* in uaf_write .*sm_bugs.c:$l" "allocated by:" "in make_block " "freed by:" \
	"dying of SIGSEGV"
[ "$rc" = $((128 + 11)) ] && pass "use after free: the program dies of SIGSEGV" ||
	fail "use after free: the program dies of SIGSEGV" "exit status $rc"

prun uaf_read "$S" uaf_read
log >"$RD/all"
l=$(line_of "$SRC" MARK-UAF-READ)
has "use after free (read): reported at the access" "$RD/all" \
	"ERROR: use-after-free" "read at offset 8 " "#0 .* in uaf_read .*sm_bugs.c:$l" "in make_block "

prun overflow128 "$S" overflow 20000 128
log >"$RD/all"
l=$(line_of "$SRC" MARK-OVERFLOW)
has "1-byte overflow of a 128-byte block: caught by the guard page at the write" "$RD/all" \
	"ERROR: heap-buffer-overflow" "write at offset 128 .*caught by a guard page" \
	"#0 .* in overflow_one .*sm_bugs.c:$l" "allocated by:" "in make_block "

prun overflow100 "$S" overflow 20000 100
log >"$RD/all"
has "1-byte overflow of a 100-byte block (alignment slack): found at free, site named" "$RD/all" \
	"ERROR: heap-buffer-overflow" "first at offset 100 " "detected by free:" "in make_block " \
	"guard_page_sites="

prun underflow "$S" underflow
log >"$RD/all"
has "1-byte underflow: reported (at the access on an under slot, else at free)" "$RD/all" \
	"ERROR: heap-buffer-underflow" "(1 byte before its start|offset -1)" "in make_block "

prun double_free "$S" double_free
log >"$RD/all"
l=$(line_of "$SRC" MARK-DOUBLE-FREE)
has "double free: reported with the first free's stack, the program goes on" "$RD/all" \
	"ERROR: double-free" "was already freed" "#0 .* in main .*sm_bugs.c:$l" "first freed by:"
grep -qx done "$RD/out" && [ "$rc" = 0 ] && pass "double free: the program finishes (status 0)" ||
	fail "double free: the program finishes (status 0)" "status $rc"

prun invalid_free "$S" invalid_free
log >"$RD/all"
l=$(line_of "$SRC" MARK-INVALID-FREE)
has "invalid free of an interior pointer: reported, the program goes on" "$RD/all" \
	"ERROR: invalid-free" "address is at offset 8 of the 100-byte block .* not its start" \
	"#0 .* in main .*sm_bugs.c:$l"
grep -qx done "$RD/out" && pass "invalid free: the program finishes" || fail "invalid free: the program finishes" "status $rc"

# ------------------------------------------------ 2. clean, counted cost

OPTS=sample_rate=1000:verbosity=2
prun clean "$S" clean 30000 100
log >"$RD/all"
has "clean run: no error, one line saying so" "$RD/all" \
	"sampled mode \(sample_rate=1000\): no errors in [0-9]+ sampled allocations"
st=$(grep -Eo "[0-9]+ sampled allocations, [0-9]+ stacks taken" "$RD/all")
k=$(echo "$st" | awk '{print $1}'); s=$(echo "$st" | awk '{print $4}')
# 75,000 calls (malloc, realloc, half of them realloc again), but a
# realloc of a glibc block is never sampled: the 30,000 mallocs draw, ~30
# sampled (Poisson: 27 was seen; below 8 has a chance under 1e-6); a stack
# only for a sampled allocation and its free
if [ -n "$k" ] && [ "$k" -ge 8 ] && [ "$k" -le 200 ] && [ "$s" -le $((2 * k)) ]; then
	pass "unsampled path: no stack taken ($k sampled of ~75000, $s stacks)"
else
	fail "unsampled path: no stack taken" "$st"
fi
grep -qx done "$RD/out" && [ "$rc" = 0 ] && pass "clean run: output and status unchanged" ||
	fail "clean run: output and status unchanged" "status $rc"

# ------------------------------------------------ 3. threads, fork, status

OPTS=sample_rate=3
prun threads "$S" threads 20000
log >"$RD/all"
grep -qx done "$RD/out" && [ "$rc" = 0 ] && grep -q "no errors in" "$RD/all" &&
	pass "4 threads, malloc/realloc/free, one in 3 sampled: no error, no hang" ||
	fail "4 threads: no error, no hang" "status $rc" "$(head -c 600 "$RD/all")"

OPTS=sample_rate=1
prun fork "$S" fork 2000
cpid=$(grep -l "use-after-free" "$RD"/r.*.log 2>/dev/null | head -1)
grep -qx "child signal 11" "$RD/out" && [ -n "$cpid" ] && grep -q "in uaf_write" "$cpid" &&
	[ "$(grep -l "ERROR" "$RD"/r.*.log | wc -l)" = 1 ] &&
	pass "fork: the child's use after free is the child's report; it dies of SIGSEGV, the parent goes on" ||
	fail "fork: the child's report" "$(cat "$RD/out")" "$(ls "$RD")"

OPTS=sample_rate=1:exitcode=9
prun status "$S" double_free 10
[ "$rc" = 9 ] && pass "exitcode=9: a double free found makes the status 9" ||
	fail "exitcode=9 with a double free" "status $rc"
prun status0 "$S" clean 100
[ "$rc" = 0 ] && pass "exitcode=9, clean run: status 0" || fail "exitcode=9, clean run: status 0" "status $rc"

# -------------------------------- 4. detection rate, site run 20,000 times

runs=${SAMPLE_RUNS:-20}
for kind in uaf_write overflow; do
	hit=0
	for i in $(seq "$runs"); do
		rm -f "$T"/rate.log
		{ env LD_PRELOAD="$MPWRAP_LIB" MPWRAP_OPTIONS="sample_rate=1000:log_path=$T/rate.log" \
			"$S" "$kind" 20000 100 >/dev/null 2>&1; } 2>/dev/null
		grep -q "ERROR: \(use-after-free\|heap-buffer-overflow\)" "$T"/rate.log 2>/dev/null &&
			hit=$((hit + 1))
	done
	[ "$hit" = "$runs" ] && pass "$kind at a site run 20000 times, sample_rate=1000: found in $hit of $runs runs" ||
		fail "$kind, sample_rate=1000: found in every run" "$hit of $runs"
done

echo "1..$n"
[ "$failed" = 0 ]
