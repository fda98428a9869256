#!/usr/bin/env bash
# t_signals.sh - signals, termination and the gate (issue 24, items 4, 7,
# 9, 10, 11, 13): every outcome exact (exit status, report line, function
# in the stack, mpcheck's status and reason).
#   rb_sigdeath    death by SIGPIPE, SIGALRM, SIGUSR1/2, SIGXCPU, SIGVTALRM,
#                  SIGPROF, SIGIO, SIGPWR, SIGSYS, real-time signals at their
#                  default action writes the report as SIGTERM does; the
#                  program's own handlers and ignored signals are its own
#   rb_term_exit   SIGTERM while the exit report is written (on the reporting
#                  thread, or another): the report whole, stdout flushed,
#                  then death by SIGTERM; mpcheck fails on the leak
#   rb_nofile      a double free where the library cannot write its report
#                  (RLIMIT_NOFILE soft or hard 8, setpriv to nobody): the
#                  report is written when the hard limit allows, else
#                  mpcheck fails with "report not written"
#   inactive       jemalloc, tcmalloc or glibc's libc_malloc_debug.so
#                  preloaded before us: "the checker is inactive" (one
#                  line, never "no leaks, no errors"), mpcheck fails; a
#                  -no-pie program's canonical PLT stub of malloc is not an
#                  allocator (python3 was called inactive)
#   rb_pool_fault  SIGSEGV inside free (the program made its block's page
#                  PROT_NONE): "no leak check", never "no leaks, no
#                  errors"; no hang on the pool's locks; mpcheck fails
#   rb_libc_misc   aligned_alloc(3, 10) and (0, 10) return memory as glibc
#                  2.36 does (reported); a double fclose is reported as the
#                  double free of the FILE; setenv's tsearch nodes are not
#                  "possibly lost" (memcheck: nothing)
#   rb_stop_eintr  an on-demand leak check stops a thread asleep in
#                  nanosleep, clock_nanosleep, usleep, poll, epoll_wait,
#                  select, ppoll, pselect, epoll_pwait(2), sigtimedwait,
#                  sigwaitinfo, sigwait, sigsuspend, sem_*wait, msgrcv,
#                  msgsnd, semop, semtimedop, read, recv, accept: the call
#                  returns what it returns without the library (was EINTR,
#                  or a hang for a sigwait on every signal); the program's
#                  own signal still interrupts it; the same with a handler
#                  of the program's installed, and under periodic checks
#   newline name   --gen-suppressions of a program named "x\nleak:*" emits
#                  no live leak:* line
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
TEST_NAME=t_signals
# shellcheck source=../progs/harness.sh
. "$here/progs/harness.sh"
R=$MPWRAP_ROOT/tests/robust
MPCHECK=$MPWRAP_ROOT/scripts/mpcheck

errs=""
for p in rb_sigdeath rb_term_exit rb_nofile rb_pool_fault rb_libc_misc rb_stop_eintr; do
	cc -g -O0 -fno-omit-frame-pointer -pthread -rdynamic "$R/$p.c" -o "$B/$p" 2>&1 || errs="$errs $p"
done
if [ -z "$errs" ]; then pass "build the reproducers"
else fail "build the reproducers" "failed:$errs"; fi

# log: the text report of the last run (one process)
log() { cat "$RD"/r.*.log 2>/dev/null; }

# ---- item 9: every default-fatal signal reports --------------------------
SIGRTMIN=$(kill -l RTMIN 2>/dev/null || echo 34)
for spec in PIPE:13:SIGPIPE ALRM:14:SIGALRM USR1:10:SIGUSR1 USR2:12:SIGUSR2 \
	XCPU:24:SIGXCPU VTALRM:26:SIGVTALRM PROF:27:SIGPROF IO:29:SIGIO \
	PWR:30:SIGPWR SYS:31:SIGSYS "RTMIN:$SIGRTMIN:SIGRTMIN" \
	"RTMIN+3:$((SIGRTMIN + 3)):SIGRTMIN+3" "RTMAX:64:SIGRTMIN+$((64 - SIGRTMIN))"; do
	IFS=: read -r short num name <<<"$spec"
	what="death by SIG$short at its default action: the report, status $((128 + num))"
	prun "sig$num" "$B/rb_sigdeath" raise "$num"
	if [ "$rc" = $((128 + num)) ] &&
	   log | grep -q "mpwrap: the program is dying of $name ($num) sent by pid" &&
	   log | grep -q "40 bytes in 1 block is definitely lost" &&
	   log | grep -q "in leaky_site .*rb_sigdeath.c" &&
	   [ -s "$(ls "$RD"/r.*.json 2>/dev/null | head -1)" ]; then
		pass "$what"
	else
		fail "$what" "exit $rc" "log: $(log | head -5)" "$(ls "$RD")"
	fi
done

what="yes | head -1: the writer dies of SIGPIPE (141) with its report"
RD=$T/run/pipe; mkdir -p "$RD"
{ (cd "$RD" && timeout -k 5 30 env LD_PRELOAD="$MPWRAP_LIB" \
	MPWRAP_OPTIONS="json_path=$RD/r.%p.json:log_path=$RD/r.%p.log" \
	"$B/rb_sigdeath" pipe 2>"$RD/err"; echo $? >"$RD/rc") | head -1 >"$RD/out"; } 2>/dev/null
rc=$(cat "$RD/rc")
if [ "$rc" = 141 ] && [ "$(cat "$RD/out")" = y ] &&
   log | grep -q "mpwrap: the program is dying of SIGPIPE (13) sent by pid" &&
   log | grep -q "in leaky_site .*rb_sigdeath.c"; then
	pass "$what"
else
	fail "$what" "exit $rc" "log: $(log | head -5)"
fi

what="the program's own SIGUSR1 handler runs, no report of a death"
prun own "$B/rb_sigdeath" own 10
if [ "$rc" = 0 ] && [ "$(cat "$RD/out")" = "handled 10" ] && ! log | grep -q "dying of"; then
	pass "$what"
else
	fail "$what" "exit $rc" "stdout: $(cat "$RD/out")" "log: $(log | head -5)"
fi

what="signal(SIGALRM, handler) then SIG_DFL: dies of SIGALRM with the report"
prun later "$B/rb_sigdeath" later 14
if [ "$rc" = 142 ] && log | grep -q "dying of SIGALRM (14)" && [ ! -s "$RD/out" ]; then
	pass "$what"
else
	fail "$what" "exit $rc" "stdout: $(cat "$RD/out")" "log: $(log | head -5)"
fi

what="SIGPIPE ignored by the program: write fails with EPIPE, status 0"
prun ignore "$B/rb_sigdeath" ignore
if [ "$rc" = 0 ] && [ "$(cat "$RD/out")" = EPIPE ] && ! log | grep -q "dying of"; then
	pass "$what"
else
	fail "$what" "exit $rc" "stdout: $(cat "$RD/out")" "log: $(log | head -5)"
fi

# ---- item 4: a termination signal during the exit report -----------------
for m in self thread; do
	what="SIGTERM during the exit report ($m): report and JSON whole, stdout flushed, 143"
	prun "te_$m" "$B/rb_term_exit" "$m"
	if [ "$rc" = 143 ] && [ "$(cat "$RD/out")" = "buffered stdout" ] &&
	   log | grep -q "in leaky_site .*rb_term_exit.c" &&
	   log | grep -q "ERROR SUMMARY: 0 errors" &&
	   log | tail -1 | grep -q "the program is dying of SIGTERM (15) sent by pid" &&
	   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["summary"]["leaks"]["definite"]["blocks"]==1' "$(ls "$RD"/r.*.json)" 2>/dev/null; then
		pass "$what"
	else
		fail "$what" "exit $rc" "stdout: $(cat "$RD/out")" "log: $(log | tail -3)" "$(ls "$RD")"
	fi
	what="mpcheck: SIGTERM during the exit report ($m) still fails the gate on the leak"
	out=$(cd "$T" && MPWRAP_LIB=$MPWRAP_LIB timeout -k 5 60 "$MPCHECK" -- "$B/rb_term_exit" "$m" 2>&1 >/dev/null)
	mrc=$?
	if [ "$mrc" = 23 ] && grep -q "1 definite leak (40 bytes)" <<<"$out" &&
	   grep -q "gate: FAIL" <<<"$out"; then
		pass "$what"
	else
		fail "$what" "mpcheck exit $mrc" "$(tail -3 <<<"$out")"
	fi
done

# ---- item 10: a process that started under the library and wrote no report
# mcheck NAME STATUS LINE CMD...: mpcheck's status and one line of its stderr
mcheck() {
	local what=$1 want=$2 line=$3 out mrc
	shift 3
	out=$(cd "$T" && MPWRAP_LIB=$MPWRAP_LIB timeout -k 5 60 "$MPCHECK" -- "$@" 2>&1 >/dev/null)
	mrc=$?
	if [ "$mrc" = "$want" ] && grep -qF -- "$line" <<<"$out"; then
		pass "$what"
	else
		fail "$what" "mpcheck exit $mrc (want $want), no line: $line" "$(tail -4 <<<"$out")"
	fi
}
UNREP="no report from the program (libmpwrap.so started in it but could not write its report, so its findings are unknown;"
mcheck "RLIMIT_NOFILE soft 8, every fd taken: the report is written anyway, the double free fails the gate" \
	23 "1 double-free" "$B/rb_nofile" soft
mcheck "RLIMIT_NOFILE hard 8, every fd taken: no report, the gate fails (report not written)" \
	23 "$UNREP" "$B/rb_nofile" hard
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 711 "$T" "$B" # nobody runs the program, and the library in it
	mcheck "setpriv --reuid=nobody: the double free is reported on stderr" \
		23 "ERROR: double-free" setpriv --reuid=nobody --regid=nogroup --clear-groups "$B/rb_nofile" plain
	mcheck "setpriv --reuid=nobody: no report, the gate fails (report not written)" \
		23 "$UNREP" setpriv --reuid=nobody --regid=nogroup --clear-groups "$B/rb_nofile" plain
else
	pass "setpriv --reuid=nobody # SKIP needs root and setpriv"
fi

# ---- item 11: another allocator preloaded first ---------------------------
nfound=0
# (glibc's libc_malloc_debug.so wraps __libc_malloc, which is ours: it is
# checked through, below)
for so in libjemalloc.so.2 libtcmalloc_minimal.so.4; do
	lib=$(ls /usr/lib/*/"$so" /lib/*/"$so" 2>/dev/null | head -1)
	[ -n "$lib" ] || continue
	nfound=$((nfound + 1))
	what="$so preloaded first: the checker says it is inactive, in one line"
	RAWOPTS="json_path=@RD@/r.%p.json:log_path=@RD@/r.%p.log" prun "inact_$so" \
		env LD_PRELOAD="$lib $MPWRAP_LIB" "$B/rb_sigdeath" ignore
	if [ "$rc" = 0 ] && [ "$(cat "$RD/out")" = EPIPE ] &&
	   [ "$(log | grep -c .)" = 1 ] &&
	   log | grep -qF "mpwrap: the checker is inactive: malloc in this process is $lib's, not libmpwrap.so's" &&
	   grep -q '"unchecked":{"reason":"the checker is inactive"' "$RD"/r.*.json; then
		pass "$what"
	else
		fail "$what" "exit $rc" "log: $(log | head -3)"
	fi
	mcheck "mpcheck: $so preloaded first fails the gate (the checker is inactive)" \
		23 "the checker is inactive (" \
		env LD_PRELOAD="$lib $MPWRAP_LIB" "$B/rb_sigdeath" ignore
done
what="libc_malloc_debug.so preloaded first: it wraps __libc_malloc, ours: checked through it, the leak found"
lib=$(ls /usr/lib/*/libc_malloc_debug.so.0 2>/dev/null | head -1)
if [ -n "$lib" ]; then
	RAWOPTS="json_path=@RD@/r.%p.json:log_path=@RD@/r.%p.log" prun inact_debug \
		env LD_PRELOAD="$lib $MPWRAP_LIB" "$B/rb_sigdeath" ignore
	if [ "$rc" = 0 ] && ! log | grep -q inactive &&
	   log | grep -q "40 bytes in 1 block is definitely lost" &&
	   log | grep -q "in leaky_site"; then
		pass "$what"
	else
		fail "$what" "exit $rc" "log: $(log | head -3)"
	fi
fi
[ "$nfound" -gt 0 ] || pass "another allocator preloaded first # SKIP none installed"
what="libc_malloc_debug.so preloaded after us: ours binds, the leak is found"
lib=$(ls /usr/lib/*/libc_malloc_debug.so.0 2>/dev/null | head -1)
if [ -n "$lib" ]; then
	RAWOPTS="json_path=@RD@/r.%p.json:log_path=@RD@/r.%p.log" prun inact_after \
		env LD_PRELOAD="$MPWRAP_LIB $lib" "$B/rb_sigdeath" ignore
	if [ "$rc" = 0 ] && ! log | grep -q inactive && log | grep -q "in leaky_site"; then
		pass "$what"
	else
		fail "$what" "exit $rc" "log: $(log | head -3)"
	fi
fi

# A non-PIE program that takes malloc's address (Debian's python3) has a
# canonical PLT stub for it: an undefined symbol with a value, which dlsym
# finds first.  The stub leads to whatever malloc binds: ours, unless an
# allocator was preloaded before us (the matrix found python3 "inactive").
if cc -g -O0 -no-pie -fno-pie -rdynamic "$R/rb_sigdeath.c" -o "$B/rb_sigdeath_nopie" 2>&1 &&
   readelf --dyn-syms -W "$B/rb_sigdeath_nopie" | grep -q '[1-9a-f][0-9a-f]* .* UND malloc'; then
	what="a -no-pie program taking malloc's address (python3): the checker is active, the leak is found"
	RAWOPTS="json_path=@RD@/r.%p.json:log_path=@RD@/r.%p.log" prun nopie "$B/rb_sigdeath_nopie" ignore
	if [ "$rc" = 0 ] && ! log | grep -q inactive && log | grep -q "in leaky_site" &&
	   ! grep -q '"unchecked"' "$RD"/r.*.json; then
		pass "$what"
	else
		fail "$what" "exit $rc" "log: $(log | head -3)"
	fi
	lib=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1)
	what="libjemalloc.so.2 preloaded first into a -no-pie program taking malloc's address: inactive, jemalloc named"
	if [ -n "$lib" ]; then
		RAWOPTS="json_path=@RD@/r.%p.json:log_path=@RD@/r.%p.log" prun nopie_je \
			env LD_PRELOAD="$lib $MPWRAP_LIB" "$B/rb_sigdeath_nopie" ignore
		if [ "$rc" = 0 ] && [ "$(log | grep -c .)" = 1 ] &&
		   log | grep -qF "mpwrap: the checker is inactive: malloc in this process is $lib's"; then
			pass "$what"
		else
			fail "$what" "exit $rc" "log: $(log | head -3)"
		fi
	else
		pass "$what # SKIP libjemalloc.so.2 not installed"
	fi
else
	fail "build rb_sigdeath -no-pie with a canonical PLT stub of malloc" "$(readelf --dyn-syms -W "$B/rb_sigdeath_nopie" 2>&1 | grep malloc)"
fi

# ---- item 13: a fatal signal inside the allocator ---------------------------
what="SIGSEGV inside free: 'no leak check' said in text and JSON, status 139"
prun pool_fault "$B/rb_pool_fault"
if [ "$rc" = 139 ] && log | grep -q "dying of SIGSEGV (11) at address .*; inside the allocator, leak scan skipped" &&
   log | grep -qF "mpwrap: no leak check: the program died inside the allocator, whose locks it may hold" &&
   ! log | grep -q "no leaks, no errors" &&
   grep -q '"unchecked":{"reason":"no leak check"' "$RD"/r.*.json; then
	pass "$what"
else
	fail "$what" "exit $rc (124: hung)" "log: $(log | head -4)"
fi
mcheck "mpcheck: SIGSEGV inside free with a real leak fails the gate (no leak check)" \
	23 "no leak check (" "$B/rb_pool_fault"

what="aligned_alloc(3, 10) and (0, 10): memory, as glibc 2.36 returns; both reported"
prun aligned "$B/rb_libc_misc" aligned
glibc_minor=$(getconf GNU_LIBC_VERSION | sed 's/.*2\.//')
want="ok ok"
[ "${glibc_minor:-0}" -ge 38 ] && want="null ok"
if [ "$rc" = 0 ] && [ "$(cat "$RD/out")" = "$want" ] &&
   [ "$(log | grep -c "ERROR: invalid-alignment")" = 2 ] &&
   log | grep -q "aligned_alloc(alignment 3, size 10)" &&
   log | grep -q "aligned_alloc(alignment 0, size 10)"; then
	pass "$what"
else
	fail "$what" "exit $rc" "stdout: $(cat "$RD/out")" "log: $(log | head -4)"
fi

what="double fclose: reported as the double free of the FILE (fclose, both stacks), no crash"
prun fclose2 "$B/rb_libc_misc" fclose2
if [ "$rc" = 0 ] && [ "$(cat "$RD/out")" = survived ] &&
   [ "$(log | grep -c "ERROR:")" = 1 ] && log | grep -q "ERROR: double-free" &&
   log | grep -q "^==[0-9]*== fclose(0x[0-9a-f]*): the 472-byte block" &&
   log | grep -A1 "bad call to fclose:" | grep -q "in main .*rb_libc_misc.c" &&
   log | grep -A1 "first freed by:" | grep -q "in fclose"; then
	pass "$what"
else
	fail "$what" "exit $rc" "stdout: $(cat "$RD/out")" "log: $(log | head -6)"
fi

what="setenv's tsearch nodes are not possibly lost (memcheck reports nothing)"
prun setenv "$B/rb_libc_misc" setenv
if [ "$rc" = 0 ] && [ "$(cat "$RD/out")" = "some value" ] &&
   log | grep -q "no leaks, no errors" && ! log | grep -q "possibly lost"; then
	pass "$what"
else
	fail "$what" "exit $rc" "log: $(log | head -6)"
fi

what="--gen-suppressions: a program named with a newline emits no live leak:* line"
nl_prog="$T/x
leak:*"
cp "$B/rb_sigdeath" "$nl_prog"
out=$(cd "$T" && MPWRAP_LIB=$MPWRAP_LIB timeout -k 5 60 "$MPCHECK" --gen-suppressions -- "$nl_prog" ignore 2>&1 >/dev/null)
mrc=$?
# (libdw reads the program's name from /proc/self/maps, escaped: no names)
if [ "$mrc" = 23 ] && ! grep -q "^leak:" <<<"$out" &&
   grep -qF "# definite, first in pid" <<<"$out" &&
   [ "$(grep -cF '/x\nleak:* ignore' <<<"$out")" -ge 2 ]; then
	pass "$what"
else
	fail "$what" "mpcheck exit $mrc" "$(grep -n "leak:" <<<"$out" | head -5)"
fi

# ---- item 7: a leak check's thread stop is invisible to the program's calls
for m in nanosleep clock_nanosleep usleep poll epoll_wait select handler ownsig; do
	want="$m 0"
	[ "$m" = ownsig ] && want="ownsig EINTR"
	what="leak check while a thread waits in $m: it returns '$want'"
	[ "$m" = ownsig ] && what="the program's own SIGUSR1 still interrupts nanosleep (EINTR)"
	[ "$m" = handler ] && what="leak check while a thread of a program with its own SIGUSR1 handler sleeps: nanosleep returns 0, sigaction shows the program its handler"
	OPTS="verbosity=0" prun "eintr_$m" "$B/rb_stop_eintr" "$m"
	if [ "$rc" = 0 ] && [ "$(cat "$RD/out")" = "$want" ]; then
		pass "$what"
	else
		fail "$what" "exit $rc" "stdout: $(cat "$RD/out")" "stderr: $(head -c 300 "$RD/err")"
	fi
done

# the calls added later: what each returns with no library at all
while read -r m want; do
	what="leak check while a thread waits in $m: it returns '$want' as without the library"
	OPTS="verbosity=0" prun "eintr_$m" "$B/rb_stop_eintr" "$m"
	if [ "$rc" = 0 ] && [ "$(cat "$RD/out")" = "$want" ]; then
		pass "$what"
	else
		fail "$what" "exit $rc" "stdout: $(cat "$RD/out")" "stderr: $(head -c 300 "$RD/err")"
	fi
done <<'EOF_MODES'
ppoll ppoll 0
pselect pselect 0
epoll_pwait epoll_pwait 0
epoll_pwait2 epoll_pwait2 0
sigtimedwait sigtimedwait EAGAIN
sigwaitinfo sigwaitinfo 0
sigwait sigwait 0
sigwaitall sigwaitall EAGAIN
sigsuspend sigsuspend EINTR usr1=0 usr2=1
sem_wait sem_wait 0
sem_timedwait sem_timedwait ETIMEDOUT
sem_clockwait sem_clockwait ETIMEDOUT
msgrcv msgrcv 1
msgsnd msgsnd 0
semop semop 0
semtimedop semtimedop EAGAIN
read read 1
recv recv 1
accept accept 0
EOF_MODES

# the program's own SIGUSR1 (SA_RESTART) still interrupts them
for m in ppoll pselect epoll_pwait epoll_pwait2 sigtimedwait sem_timedwait \
	sem_clockwait semtimedop sigsuspend; do
	want="$m EINTR"
	# SIGUSR1 ends the wait (its handler ran); the SIGUSR2 sent right
	# after lands inside the same wait or stays pending after it, as the
	# scheduler has it, with or without the library
	[ "$m" = sigsuspend ] && want="sigsuspend EINTR usr1=1 usr2=[01]"
	what="the program's own SIGUSR1 still interrupts $m: '$want'"
	OPTS="verbosity=0" prun "eintr_own_$m" "$B/rb_stop_eintr" "$m" own
	if [ "$rc" = 0 ] && [[ "$(cat "$RD/out")" =~ ^$want$ ]]; then
		pass "$what"
	else
		fail "$what" "exit $rc" "stdout: $(cat "$RD/out")" "stderr: $(head -c 300 "$RD/err")"
	fi
done

# periodic checks (leak_check_interval=1) during 2 s waits in 14 calls at
# once: each returns what it returns undisturbed; a check did run
what="periodic leak checks while 14 threads wait 2 s: every call returns as undisturbed"
want="nanosleep 0
clock_nanosleep 0
usleep 0
poll 0
ppoll 0
epoll_wait 0
epoll_pwait 0
epoll_pwait2 0
select 0
pselect 0
sigtimedwait EAGAIN
sem_timedwait ETIMEDOUT
sem_clockwait ETIMEDOUT
semtimedop EAGAIN"
OPTS="verbosity=0:leak_check_interval=1" prun eintr_periodic "$B/rb_stop_eintr" periodic 2
if [ "$rc" = 0 ] && [ "$(cat "$RD/out")" = "$want" ] &&
   log | grep -q "leak check #1 (periodic, every 1 s)"; then
	pass "$what"
else
	fail "$what" "exit $rc" "stdout: $(cat "$RD/out")" "checks: $(log | grep -c 'leak check #')"
fi

echo "1..$n"
[ "$failed" = 0 ]
