#!/usr/bin/env bash
# t_smallstack.sh - the library on small stacks (issue 24, items 1 and 6):
# its reports, the exit report and the first capture at a new pc run on a
# stack of its own, so a program's 16-128 KiB thread or 8-32 KiB
# sigaltstack is enough for whatever the program itself does there.  One
# reproducer, tests/robust/rb_smallstack.c; before the fix:
#   exit from a 32 KiB thread       SIGSEGV (139), no report
#   exit from a 128 KiB thread      hung (the overflow's SIGSEGV waited for
#                                   the report lock its own thread held)
#   double free, 128 KiB thread     hung, the same way
#   exit/_exit/double free in a handler on an 8-32 KiB sigaltstack: 139
#   c-stack's overflow handler      killed by SIGSEGV in the exit report
#   an overflow, sigaltstack set, no handler of the program's: no report
#                                   (the library's handler was not SA_ONSTACK)
#   pthread_create, 16 KiB stack    EINVAL (21 KB of static TLS)
#   abort() in a handler that interrupted the thread's own report: hung
#                                   (its SIGABRT waited for its report lock)
# A hang is a failure: prun's timeout (30 s) ends it.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
TEST_NAME=t_smallstack
# shellcheck source=../progs/harness.sh
. "$here/progs/harness.sh"
R=$MPWRAP_ROOT/tests/robust

if cc -g -O0 -pthread "$R/rb_smallstack.c" -o "$B/rb_smallstack" 2>&1; then
	pass "build the reproducer"
else
	fail "build the reproducer"
fi
S=$B/rb_smallstack

# expect NAME RC OUT PATTERN... : exit status, stdout (| for newlines) and
# each fixed string present in the text report
expect() {
	local name=$1 want_rc=$2 want_out=$3 p miss=""
	shift 3
	local out log
	out=$(tr '\n' '|' <"$RD/out")
	log=$(cat "$RD"/r.*.log 2>/dev/null)
	for p in "$@"; do
		grep -qF -- "$p" <<<"$log" || miss="$miss [$p]"
	done
	if [ "$rc" = "$want_rc" ] && [ "$out" = "$want_out" ] && [ -z "$miss" ]; then
		pass "$name"
	else
		fail "$name" "exit $rc (want $want_rc; 124/137: hung, 139: SIGSEGV)" \
			"stdout: $out (want $want_out)" "missing from the report:$miss" \
			"stderr: $(head -c 300 "$RD/err")" "log: $(head -c 600 <<<"$log")"
	fi
}

leak=("40 bytes in 1 block is definitely lost" "in small_leaker" "LEAK SUMMARY:")
dfree=("ERROR: double-free" "bad call to free:" "in small_double_free")

for k in 32 64 128; do
	prun exit$k "$S" exit $k
	expect "exit(6) from a thread with a $k KiB stack: exit status 6, the leak report" \
		6 "exiting|" "${leak[@]}"
done
for k in 32 64 128; do
	prun dfree$k "$S" dfree $k
	expect "a double free on a thread with a $k KiB stack: reported, exit 0" \
		0 "freed twice|" "${dfree[@]}" "in dfree_thread" "ERROR SUMMARY: 1 error"
done
for k in 8 16 32; do
	prun altexit$k "$S" alt exit $k
	expect "exit(7) in a handler on a $k KiB sigaltstack: exit status 7, the leak report" \
		7 "handler|" "${leak[@]}"
	prun alt_exit$k "$S" alt _exit $k
	expect "_exit(7) in a handler on a $k KiB sigaltstack: exit status 7, the leak report" \
		7 "handler|" "${leak[@]}"
	prun altmalloc$k "$S" alt malloc $k
	expect "malloc and free in a handler on a $k KiB sigaltstack, then the exit report" \
		0 "handler|handler done|main done|" "${leak[@]}"
	prun altdfree$k "$S" alt dfree $k
	expect "a double free in a handler on a $k KiB sigaltstack: reported through the handler" \
		0 "handler|handler done|main done|" "${dfree[@]}" "in on_usr1" "${leak[@]}"
done

prun overflow "$S" overflow
expect "a c-stack style overflow handler on a 32 KiB sigaltstack prints, exits 4, the report is written" \
	4 "rb_smallstack: stack overflow|" "LEAK SUMMARY:" "ERROR SUMMARY: 0 errors"

prun overflow_ours "$S" overflow_ours
expect "a stack overflow with a sigaltstack and no handler of the program's: reported, dies of SIGSEGV" \
	139 "" "the program is dying of SIGSEGV" "in recurse" "LEAK SUMMARY:"

# the report must go to stderr, the full pipe: no log_path
RAWOPTS="json_path=@RD@/r.%p.json" prun lockself "$S" lockself
out=$(tr -d . <"$RD/out")
# (the interrupted write of the double free's report is lost or not,
# depending on where the signal met it: not asserted)
if [ "$rc" = 0 ] && grep -q "^child: signal 6$" <<<"$out" &&
   grep -q "mpwrap: the program is dying of SIGABRT (6); inside the checker's own report" <<<"$out" &&
   grep -q "ERROR SUMMARY: 1 error" <<<"$out"; then
	pass "abort() in a handler that interrupted the thread's own report: reported, dies of SIGABRT, no wait for its own lock"
else
	fail "abort() in a handler that interrupted the thread's own report: reported, dies of SIGABRT, no wait for its own lock" \
		"exit $rc (124/137: hung)" "output: $(head -c 800 <<<"$out")"
fi

prun thread16 "$S" thread16
expect "pthread_create with a 16 KiB stack succeeds (small static TLS); malloc in it" \
	0 "thread ran|" "mpwrap: no leaks, no errors"

echo "1..$n"
[ "$failed" = 0 ]
