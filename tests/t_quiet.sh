#!/usr/bin/env bash
# t_quiet.sh - the gate on a real test suite: silent when clean, cheap per
# process (TAP).
#
# Under mpcheck the library writes nothing to the program's own stdout or
# stderr (a suite comparing a test's 2>&1 with expected output passes as it
# does plainly); system programs (sh, sed, cmp...) run passed through,
# unchecked, each leaving one line in mpwrap.PID.sys that mpcheck counts;
# a process's JSON lists only what its findings need (no reachable groups
# unless asked).  Plain LD_PRELOAD use keeps the one-line clean notice
# (verbosity=0 silences it) and checks every program.
#
# Environment (exported by `make test`; defaulted when run by hand):
#   MPWRAP_ROOT, MPWRAP_LIB, MPWRAP_TFLAGS as in t_preload.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_quiet
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"
MPCHECK=$MPWRAP_ROOT/scripts/mpcheck
export MPWRAP_LIB
unset TMPDIR_FOR_MPCHECK

# shellcheck disable=SC2086
(cd "$MPWRAP_ROOT" && $CC $MPWRAP_TFLAGS -I"$P" -o "$B/qt_output" "$P/qt_output.c") \
	>"$T/cc.log" 2>&1 || { fail "qt_output builds" "$(head -c 600 "$T/cc.log")"; echo "1..$n"; exit 1; }
Q=$B/qt_output
cd "$T/run" || exit 1

# same NAME A B: files A and B hold the same bytes.
same() {
	if cmp -s "$2" "$3"; then pass "$1"
	else fail "$1" "$(diff "$2" "$3" | head -n 12)"; fi
}

# ---------------------------------------------------- 1. silent when clean

"$Q" >plain.out 2>plain.err
"$Q" leak >plain-leak.out 2>plain-leak.err
"$Q" >plain-both 2>&1

"$MPCHECK" --quiet -- "$Q" >mp.out 2>mp.err
rc=$?
[ "$rc" = 0 ] || fail "clean program under mpcheck --quiet: status 0" "status $rc: $(head -c 400 mp.err)"
same "clean program under mpcheck --quiet: stdout byte-identical to a plain run" plain.out mp.out
same "clean program under mpcheck --quiet: stderr byte-identical to a plain run" plain.err mp.err

# the program's own streams, as a test script sees them (mpcheck's summary
# goes to mpcheck's stderr, after the program)
"$MPCHECK" -- sh -c '"$0" >in.out 2>in.err' "$Q" >/dev/null 2>mp1.err
same "clean program under mpcheck: its own stderr holds only its own bytes" plain.err in.err
"$MPCHECK" -- sh -c '"$0" leak >in-leak.out 2>in-leak.err' "$Q" >/dev/null 2>mp2.err
rc=$?
[ "$rc" = 23 ] && grep -q "1 definite leak (40 bytes)" mp2.err &&
	pass "a leak under mpcheck: the gate fails (23) and the summary names it" ||
	fail "a leak under mpcheck: the gate fails (23) and the summary names it" "status $rc" "$(cat mp2.err)"
same "a leak under mpcheck: the program's stdout is unchanged" plain-leak.out in-leak.out
same "a leak under mpcheck: the program's stderr is unchanged (the report waits for mpcheck)" \
	plain-leak.err in-leak.err

# a test in the style of json-c's: compare 2>&1 with the expected output
cat >cmp_test.sh <<EOF
#!/bin/sh
"$Q" >got 2>&1 && "$Q" child >>got 2>&1 && sed 's/^/  /' got >got.indented && cmp -s got expected
EOF
chmod +x cmp_test.sh
{ cat plain-both; "$Q" child 2>&1; } >expected
./cmp_test.sh && pass "the 2>&1-comparing script passes plainly" ||
	fail "the 2>&1-comparing script passes plainly"
"$MPCHECK" --json mp3.json -- ./cmp_test.sh >/dev/null 2>mp3.err
rc=$?
[ "$rc" = 0 ] && pass "the 2>&1-comparing script passes under mpcheck (status 0)" ||
	fail "the 2>&1-comparing script passes under mpcheck (status 0)" "status $rc" "$(diff got expected | head)" "$(cat mp3.err)"

# --------------------------------------- 2. system programs pass through

python3 - mp3.json >py3 2>&1 <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
# checked: the three qt_output processes (one forked); passed through: the
# shell of the script, sed and cmp
assert s["processes"] == 3, s
assert s["unchecked_system_processes"] == 3, s
names = set(s["unchecked_system_programs"])
assert "sed" in names and "cmp" in names, names
assert s["without_report"] == 0, s
PY
[ $? = 0 ] && pass "mpcheck: sh, sed and cmp unchecked and counted; the 3 processes of ours checked" ||
	fail "mpcheck: sh, sed and cmp unchecked and counted; the 3 processes of ours checked" "$(cat py3)"
grep -q "3 system processes not checked (--system-leaks checks them)" mp3.err &&
	pass "the summary line says how many system processes were not checked" ||
	fail "the summary line says how many system processes were not checked" "$(cat mp3.err)"

"$MPCHECK" --system-leaks --json mp4.json -- ./cmp_test.sh >/dev/null 2>mp4.err
python3 - mp4.json >py4 2>&1 <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
assert s["unchecked_system_processes"] == 0, s
assert s["processes"] >= 6, s       # the shell, sed, cmp checked too
PY
[ $? = 0 ] && pass "--system-leaks checks the system programs too" ||
	fail "--system-leaks checks the system programs too" "$(cat py4)" "$(cat mp4.err)"

# the library alone: the decision, the trace, fork and exec
mkdir -p lib
run_pt() {
	env LD_PRELOAD="$MPWRAP_LIB" \
		MPWRAP_OPTIONS="system_passthrough=1:passthrough_path=$T/run/lib/pt.%p:json_path=$T/run/lib/r.%p.json:log_path=$T/run/lib/r.%p.log" \
		"$@"
}
rm -f lib/*
run_pt sed s/a/b/ /dev/null
lines=$(cat lib/pt.* 2>/dev/null)
ls lib/r.*.json >/dev/null 2>&1 && json=yes || json=no
[ "$lines" = "$(readlink -f "$(command -v sed)")" ] && [ $json = no ] &&
	pass "system_passthrough=1: sed runs unchecked, no report, one trace line (its executable)" ||
	fail "system_passthrough=1: sed runs unchecked, no report, one trace line (its executable)" \
		"trace: $lines; JSON: $json"
rm -f lib/*
run_pt sh -c 'exec "$0" child' "$Q" >/dev/null 2>&1
pt=$(cat lib/pt.* 2>/dev/null | wc -l)
js=$(ls lib/r.*.json 2>/dev/null | wc -l)
[ "$pt" = 1 ] && [ "$js" = 2 ] &&
	pass "an exec decides again (sh passed through, the program it becomes checked); a fork inherits (2 reports)" ||
	fail "an exec decides again (sh passed through, the program it becomes checked); a fork inherits (2 reports)" \
		"trace lines $pt, reports $js: $(ls lib)"
rm -f lib/*
if command -v python3 >/dev/null; then
	run_pt python3 -c 'print("x")' >/dev/null
	# (env, or a pyenv shim's bash, pass through on the way)
	python3 -c '
import json, os, sys
exes = [os.path.basename(json.load(open(f))["executable"]) for f in sys.argv[1:]]
assert any(e.startswith("python") for e in exes), exes' lib/r.*.json >/dev/null 2>&1 &&
		pass "an interpreter (python3) stays checked: it loads the project's C extensions" ||
		fail "an interpreter (python3) stays checked: it loads the project's C extensions" "$(ls lib)"
fi
rm -f lib/*
env LD_PRELOAD="$MPWRAP_LIB" MPWRAP_OPTIONS="json_path=$T/run/lib/r.%p.json:log_path=$T/run/lib/r.%p.log" \
	sed s/a/b/ /dev/null
ls lib/r.*.json >/dev/null 2>&1 && pass "plain LD_PRELOAD (no system_passthrough) checks sed" ||
	fail "plain LD_PRELOAD (no system_passthrough) checks sed" "$(ls lib)"

# -------------------------------- 3. nothing the findings do not need

python3 - lib/r.*.json >py5 2>&1 <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
size = os.path.getsize(sys.argv[1])
assert d["summary"]["leaks"]["reachable"]["blocks"] > 0, d["summary"]
assert d["leaks"] == [], [(g["kind"], g["bytes"]) for g in d["leaks"]]
assert size < 4096, size
PY
[ $? = 0 ] && pass "sed's JSON counts its reachable blocks and lists no group (under 4 KB; 61 KB before)" ||
	fail "sed's JSON counts its reachable blocks and lists no group (under 4 KB; 61 KB before)" "$(cat py5)"
rm -f lib/*
env LD_PRELOAD="$MPWRAP_LIB" MPWRAP_OPTIONS="json_path=$T/run/lib/r.%p.json:log_path=$T/run/lib/r.%p.log:show_reachable=1" \
	sed s/a/b/ /dev/null
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
g = [g for g in d["leaks"] if g["kind"] == "reachable"]
assert g and all(g["stack"] for g in g), d["leaks"]' lib/r.*.json >py6 2>&1 &&
	pass "show_reachable=1: the JSON lists the reachable groups with their stacks" ||
	fail "show_reachable=1: the JSON lists the reachable groups with their stacks" "$(cat py6)"

# ------------------------------------------- 4. plain LD_PRELOAD notices

env LD_PRELOAD="$MPWRAP_LIB" "$Q" >pl.out 2>pl.err
tail -n 1 pl.err | grep -q '^==[0-9]*== mpwrap: no leaks, no errors' &&
	pass "plain LD_PRELOAD: a clean process still says so in one line" ||
	fail "plain LD_PRELOAD: a clean process still says so in one line" "$(cat pl.err)"
env LD_PRELOAD="$MPWRAP_LIB" MPWRAP_OPTIONS=verbosity=0 "$Q" >pl0.out 2>pl0.err
same "plain LD_PRELOAD, verbosity=0: stderr byte-identical to a plain run" plain.err pl0.err

echo "1..$n"
[ "$failed" = 0 ] && echo "# all $n passed; $((SECONDS - start)) s" ||
	echo "# $failed of $n failed; $((SECONDS - start)) s"
[ "$failed" = 0 ]
