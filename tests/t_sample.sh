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
	"sampled mode \(sample_rate=1000\): no errors, no leaks in [0-9]+ sampled allocations"
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
grep -qx done "$RD/out" && [ "$rc" = 0 ] && grep -q "no errors, no leaks in" "$RD/all" &&
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

# ------------------- 4. leaks of sampled blocks, JSON, mpcheck --sample N

# sample_rate=1: every block of at most a page is sampled, so the figures
# are exact (the estimate is the sampled bytes x 1)
# shellcheck disable=SC2086
(cd "$MPWRAP_ROOT" && $CC $MPWRAP_TFLAGS -I"$P" -o "$B/sm_leaks" "$P/sm_leaks.c" -ldl) \
	>"$T/cc2.log" 2>&1 && pass "sm_leaks builds" ||
	fail "sm_leaks builds" "$(head -c 600 "$T/cc2.log")"
L=$B/sm_leaks
LSRC=$P/sm_leaks.c

OPTS=sample_rate=1:sample_slots=4096
prun leak "$L" leak
log >"$RD/all"
has "sampled leaks at exit: definite with the site's estimate and stack, indirect, summary" "$RD/all" \
	"300 bytes in 3 sampled blocks are definitely lost: ~300 bytes lost at this site, from 3 samples \(sample_rate=1\)" \
	"#0 .* in leak_site .*sm_leaks.c:$(line_of "$LSRC" MARK-LEAK)" \
	"48 bytes in 1 sampled block is definitely lost" "in chain_head " \
	"24 bytes in 1 sampled block is indirectly lost" "in chain_tail " \
	"LEAK SUMMARY \(sampled blocks, one allocation in 1" "definitely lost +348 bytes in 4 blocks"
grep -q "kept_site" "$RD/all" && fail "blocks kept in a global: not lost" "$(grep -B1 kept_site "$RD/all")" ||
	pass "blocks kept in a global: not lost"
# jcheck NAME PYTHON: the python (j = the JSON report of the run in $RD)
# prints nothing when every expectation holds, else what is wrong
jcheck() {
	local out
	out=$(python3 -c "import glob, json, sys
j = json.load(open(sorted(glob.glob(sys.argv[1] + '/r.*.json'))[0]))
$2" "$RD" 2>&1)
	[ -z "$out" ] && pass "$1" || fail "$1" "$out"
}
jcheck "JSON report: the sampled object, each leak's estimate" '
d = [l for l in j["leaks"] if l["kind"] == "definite" and l["stack"][0]["function"] == "leak_site"]
if j.get("sampled", {}).get("sample_rate") != 1: print("sampled:", j.get("sampled"))
if len(d) != 1 or d[0]["bytes"] != 300 or d[0]["blocks"] != 3: print("leak_site group:", d)
elif d[0].get("estimate") != {"bytes": 300, "blocks": 3, "samples": 3, "sample_rate": 1}: print("estimate:", d[0].get("estimate"))
if j["summary"]["leaks"]["definite"] != {"bytes": 348, "blocks": 4}: print("summary:", j["summary"]["leaks"])
if j["summary"]["leaks"]["indirect"] != {"bytes": 24, "blocks": 1}: print("indirect:", j["summary"]["leaks"])
'

OPTS=sample_rate=1:sample_slots=4096:show_reachable=1
prun heapref "$L" heapref
log >"$RD/all"
has "a block whose only pointers are in glibc's heap ([heap] and an mmap'd chunk): still reachable, not lost" "$RD/all" \
	"definitely lost +0 bytes in 0 blocks" "32 bytes in 1 sampled block is still reachable" "in kept_in_heap "
[ "$(grep -c "32 bytes in 1 sampled block is still reachable: ~32 bytes at this site" "$RD/all")" = 3 ] && ! grep -q "lost:" "$RD/all" &&
	pass "the three heap-held blocks (three call lines) listed as reachable, none lost" ||
	fail "the heap-held blocks reachable" "$(grep -A2 "sampled block" "$RD/all")"

OPTS=sample_rate=1:sample_slots=4096
prun threads "$L" threads
log >"$RD/all"
has "4 threads each lose one block: 400 bytes in 4 at leak_site; their TLS vectors (ld.so's) not lost" "$RD/all" \
	"400 bytes in 4 sampled blocks are definitely lost" "in thread_main "
grep -q "allocate_dtv\|kept_site" "$RD/all" && fail "threads: nothing else lost" "$(cat "$RD/all")" ||
	pass "threads: nothing else lost (thread TLS, blocks kept in globals)"

prun check "$L" check
log >"$RD/all"
[ "$(grep -c "300 bytes in 3 sampled blocks are definitely lost" "$RD/all")" = 2 ] &&
	grep -q "leak check #1 (mp_leak_check)" "$RD/all" && grep -qx "check 5" "$RD/out" &&
	grep -qx done "$RD/out" && pass "on demand (mp_leak_check): the leaks reported, the count returned, the program goes on" ||
	fail "on demand (mp_leak_check)" "$(cat "$RD/out")" "$(head -c 900 "$RD/all")"

prun dump "$L" dump
log >"$RD/all"
n_dump=$(sed -n 's/^dump //p' "$RD/out")
has "mp_dump_leaks: the live sampled blocks by stack, scaled" "$RD/all" \
	"300 bytes in 3 blocks allocated from:" "in leak_site " "200 bytes in 5 blocks allocated from:" \
	"in kept_site " "live sampled blocks: [0-9]+ bytes in $n_dump blocks .*\(sample_rate=1: ~[0-9]+ bytes in all\)"
[ "${n_dump:-0}" -ge 10 ] && pass "mp_dump_leaks returns the live sampled blocks ($n_dump >= 10)" ||
	fail "mp_dump_leaks returns the live sampled blocks" "$(cat "$RD/out")"

prun term "$L" term
log >"$RD/all"
has "SIGTERM: the sampled leaks reported, the program dies of it" "$RD/all" \
	"dying of SIGTERM" "300 bytes in 3 sampled blocks are definitely lost"
[ "$rc" = $((128 + 15)) ] && pass "SIGTERM: exit status 143" || fail "SIGTERM: exit status 143" "status $rc"

prun fork_leak "$L" fork
cl=$(grep -l "child_site" "$RD"/r.*.log 2>/dev/null | head -1)
pl=$(grep -l "in leak_site" "$RD"/r.*.log 2>/dev/null | head -1)
if [ -n "$cl" ] && [ -n "$pl" ] && [ "$cl" != "$pl" ] && ! grep -q "leak_site" "$cl" &&
	grep -q "100 bytes in 1 sampled block is definitely lost" "$cl" &&
	grep -q "300 bytes in 3 sampled blocks are definitely lost" "$pl" && ! grep -q child_site "$pl"; then
	pass "fork: the child reports the block it lost, not its parent's; the parent its own"
else
	fail "fork: each process its own sampled leaks" "$(cat "$RD"/r.*.log | grep -E "lost:|#0")"
fi

OPTS=sample_rate=1:sample_slots=4096:exitcode=9
prun status_leak "$L" leak
[ "$rc" = 9 ] && pass "exitcode=9: a sampled definite leak makes the status 9" ||
	fail "exitcode=9 with a sampled leak" "status $rc"

OPTS=sample_rate=1
prun fork_json "$S" fork 200
n_json=$(ls "$RD"/r.*.json 2>/dev/null | wc -l)
[ "$n_json" = 2 ] && pass "fork: parent and child each write a JSON report" ||
	fail "fork: two JSON reports" "$(ls "$RD")"

MPCHECK=$MPWRAP_ROOT/scripts/mpcheck
mpc() { (cd "$T" && MPWRAP_LIB="$MPWRAP_LIB" "$MPCHECK" -q --no-progress --json "$T/mpc.json" "$@" >"$T/mpc.out" 2>&1); }
mpc --sample 1 -- "$L" leak; rc=$?
[ "$rc" = 23 ] && grep -q "definite leak of 300 bytes in 3 sampled blocks (~300 bytes estimated)" "$T/mpc.out" &&
	pass "mpcheck --sample 1: a sampled leak fails the gate (23), with its estimate" ||
	fail "mpcheck --sample 1: a sampled leak fails the gate" "status $rc" "$(head -c 900 "$T/mpc.out")"
mpc --sample 1 -- "$S" double_free 10; rc=$?
[ "$rc" = 23 ] && grep -q "double-free" "$T/mpc.out" &&
	pass "mpcheck --sample 1: a sampled double free fails the gate" ||
	fail "mpcheck --sample 1: a sampled double free fails the gate" "status $rc" "$(head -c 900 "$T/mpc.out")"
mpc --sample 1 -- "$L" clean; rc=$?
[ "$rc" = 0 ] && pass "mpcheck --sample 1: a clean program passes" ||
	fail "mpcheck --sample 1: a clean program passes" "status $rc" "$(head -c 900 "$T/mpc.out")"
mpc --sample 0 -- "$L" clean; rc=$?
[ "$rc" = 125 ] && grep -q "^mpcheck: --sample: expected an integer 1..1000000000, got '0'" "$T/mpc.out" &&
	pass "mpcheck --sample 0: one line, status 125" ||
	fail "mpcheck --sample 0: usage error" "status $rc" "$(cat "$T/mpc.out")"

# ------------------------------------ 4b. the start of a short process
# sampled mode exists to cost little: its start reads no /proc/self/maps
# (the main thread's stack bounds come from __libc_stack_end, AT_EXECFN
# and RLIMIT_STACK) and installs each signal handler in one call, not a
# read and a write (158 rt_sigaction calls before, ~50 now); no leak
# check at exit (that one reads the maps)
if command -v strace >/dev/null 2>&1; then
	rm -f "$T/st.out"
	strace -f -qq -o "$T/st.out" -e trace=openat,open,rt_sigaction \
		-E LD_PRELOAD="$MPWRAP_LIB" -E MPWRAP_OPTIONS=sample_rate=1000:detect_leaks=0 \
		"$L" clean >/dev/null 2>&1
	maps=$(grep -c '/proc/self/maps' "$T/st.out")
	sigs=$(grep -c 'rt_sigaction(' "$T/st.out")
	[ "$maps" = 0 ] && [ "$sigs" -gt 20 ] && [ "$sigs" -le 64 ] &&
		pass "sampled start: no /proc/self/maps read, $sigs rt_sigaction calls (<= 64)" ||
		fail "sampled start: no /proc/self/maps read, <= 64 rt_sigaction calls" \
			"maps reads $maps, rt_sigaction $sigs" "$(head -c 900 "$T/st.out")"
else
	pass "sampled start's system calls # SKIP no strace"
fi

# -------------------------------- 5. detection rate, site run 20,000 times

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
