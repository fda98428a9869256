#!/usr/bin/env bash
# t_inputs.sh - odd inputs from the host and the user, each handled without
# surprise (issue 24's minor items):
#  * glibc's exported __libc_malloc family mixed with malloc/free: tracked
#    as the same allocator (no false invalid free), their leaks reported;
#  * a stripped program's stacks end at its last own frame, not in the C
#    runtime's start-up below an unnamed main;
#  * 10,000 bad MPWRAP_OPTIONS keys: a bounded number of warning lines;
#  * mpcheck's suppression files: an empty pattern, control characters, a
#    FIFO without a writer, /dev/zero, a byte-order mark, NUL bytes.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_inputs
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

cat >"$T/check.py" <<'PY'
import os
exec(open(os.path.join(os.environ["PROGS"], "checklib.py")).read())
run_checks()
PY

MPCHECK=${MPCHECK:-$MPWRAP_ROOT/scripts/mpcheck}
O2FLAGS=" $MPWRAP_TFLAGS "
O2FLAGS=${O2FLAGS// -O0 / }
O2FLAGS="${O2FLAGS// -fno-optimize-sibling-calls / } -O2 -g -fno-omit-frame-pointer"
for o in O0 O2; do
	f=$MPWRAP_TFLAGS
	[ "$o" = O2 ] && f=$O2FLAGS
	compile "$B/pl_libc_alias.$o" "$T/cc.pl_libc_alias.$o" \
		$CC $f -I"$P" "$P/pl_libc_alias.c" -o "$B/pl_libc_alias.$o"
done
compile "$B/pl_leak.strip" "$T/cc.pl_leak.strip" \
	$CC $MPWRAP_TFLAGS -I"$P" "$P/pl_leak.c" -o "$B/pl_leak.strip" -s
wait
built "build the test programs" O0 pl_libc_alias
built "build the test programs at -O2" O2 pl_libc_alias
built "build the stripped program" strip pl_leak

# ---- __libc_* entry points
L_ALIAS=$(line_of "$P/pl_libc_alias.c" "/* ALIAS_LEAK */")
for o in O0 O2; do
	name="__libc_malloc/free/calloc/realloc/memalign/valloc/pvalloc mixed with malloc/free: no error, the __libc_memalign leak found (-$o)"
	if have "pl_libc_alias.$o" "$name"; then
		prun "alias.$o" "$B/pl_libc_alias.$o"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
errors_are(J, L, [])
summary_is(J, L, definite=(77, 1), indirect=(0, 0), possible=(0, 0))
leak_group(J, L, "definite", "lose_aligned", "pl_libc_alias.c", V["l"], 77, 1)
' l="$L_ALIAS"
	fi
done

# ---- a stripped program: no C runtime frames below its unnamed main
name="stripped program: leak stacks end above __libc_start_call_main/_start"
if have pl_leak.strip "$name"; then
	prun strip "$B/pl_leak.strip"
	status_is "$name" 0 && check "$name" '
J, L, pid = load()
must(len(J["leaks"]) == 2, "expected 2 leak groups, got %d" % len(J["leaks"]))
for g in J["leaks"]:
    names = [f.get("function") or "" for f in g["stack"]]
    need(not any(n.startswith("__libc_start") or n == "_start" for n in names),
         "C runtime frames in a stripped stack: %s" % names)
    need(len(g["stack"]) >= 2, "stack too short: %s" % names)
for l in L["leaks"]:
    need(not any("__libc_start" in str(fr) for fr in l["stack"]),
         "text stack has the C runtime: %s" % l["stack"])
'
fi

# ---- 10,000 unknown option keys: a bounded warning
name="10,000 unknown MPWRAP_OPTIONS keys print 9 warning lines, the program unchanged"
opts=$(python3 -c 'print(":".join("bogus%d=1" % i for i in range(10000)))')
out=$(env LD_PRELOAD="$MPWRAP_LIB" MPWRAP_OPTIONS="$opts:log_path=/dev/null" \
	sh -c 'echo hello' 2>"$T/warn")
lines=$(grep -c 'MPWRAP_OPTIONS' "$T/warn")
if [ "$out" = hello ] && [ "$lines" = 9 ] &&
	grep -q '9992 more ignored (10000 in all)' "$T/warn"; then
	pass "$name"
else
	fail "$name" "stdout '$out', $lines warning lines" "$(tail -3 "$T/warn")"
fi

# ---- mpcheck: suppression files
# mpck NAME WANT-STATUS WANT-LINE SUPPFILE: mpcheck refuses or accepts the
# file in one clear line, within 20 s (no hang), without running a hung read
mpck() {
	local name=$1 want=$2 line=$3 file=$4 got
	got=$(cd "$T" && timeout -k 5 20 "$MPCHECK" --quiet --suppressions "$file" \
		-- true 2>&1)
	local st=$?
	if [ "$st" = "$want" ] && printf '%s\n' "$got" | grep -qF -- "$line"; then
		pass "$name"
	else
		fail "$name" "status $st (want $want), output:" "$got"
	fi
}
printf 'leak:\n' >"$T/empty.supp"
mpck "an empty leak: pattern is refused (it would hide every leak)" 125 \
	"empty.supp:1: 'leak:' has an empty pattern (write leak:* to match every one)" "$T/empty.supp"
printf 'leak:ok\n\033[31mbogus\033]0;x\007:y\n' >"$T/esc.supp"
mpck "escape sequences in a bad line are shown, not sent to the terminal" 125 \
	"esc.supp:2: malformed suppression line '\\x1b[31mbogus\\x1b]0;x\\x07:y'" "$T/esc.supp"
mkfifo "$T/fifo.supp"
mpck "a FIFO that no program writes: refused after 5 s, no hang" 125 \
	"fifo.supp': nothing more arrived from a FIFO within 5 s" "$T/fifo.supp"
mpck "/dev/zero is refused: a device is no suppression file" 125 \
	"cannot read suppression file '/dev/zero': it is a character device, not a file" /dev/zero
printf '\357\273\277leak:some_function\n' >"$T/bom.supp"
mpck "a UTF-8 byte-order mark before the first line is accepted" 0 "" "$T/bom.supp"
printf 'leak:a\0b\n' >"$T/nul.supp"
mpck "a file with NUL bytes is refused as not text" 125 "holds NUL bytes, not text" "$T/nul.supp"
name="process substitution (a pipe that delivers its text) is read"
got=$(cd "$T" && timeout -k 5 20 "$MPCHECK" --quiet \
	--suppressions <(sleep 1; echo 'leak:x') -- true 2>&1)
st=$?
if [ "$st" = 0 ]; then pass "$name"; else fail "$name" "status $st" "$got"; fi

echo "1..$n"
[ "$failed" -eq 0 ]
