#!/usr/bin/env bash
# t_reports.sh - TAP tests for what mpcheck does when a process leaves no
# report, or the report directory holds something hostile (issue 12, 14):
# descendants that outlive the program, are killed by SIGKILL or are
# set-user-ID are noted and counted in the verdict; a FIFO, device, link,
# huge, deeply nested, mistyped or non-UTF-8 "report" is one note each,
# never a traceback or a hang (every run is under timeout).
# Uses the fake library of t_mpcheck.sh.  Usage: tests/mpcheck/t_reports.sh
set -u

here=$(cd "$(dirname "$0")" && pwd)
MPCHECK=$(cd "$here/../.." && pwd)/scripts/mpcheck
T=$(mktemp -d "${TMPDIR:-/tmp}/t_reports.XXXXXX")
# the daemons the tests start are ended here whatever happens
trap 'for p in $(cat "$T"/*.pid 2>/dev/null); do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
unset LD_PRELOAD MPWRAP_OPTIONS MPWRAP_LIB FAKE_MPWRAP_JSON
export LC_ALL=C
cd "$T" || exit 1
if ! cc -shared -fPIC -o libmpwrap.so "$here/fake_libmpwrap.c" ||
   ! cc -o tprog "$here/tprog.c"; then
	echo "1..0 # SKIP cannot build the fake library with cc"
	exit 0
fi
cp tprog prog1
export MPWRAP_LIB=$T/libmpwrap.so

. "$here/tap.sh"

# run ARGS...: mpcheck under timeout; status in $rc, seconds in $secs.
run() {
	local start=$SECONDS
	timeout 60 "$MPCHECK" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	secs=$((SECONDS - start))
}

LEAK='{"version":1,"pid":@PID@,"command":"@CMD@","errors":[],"leaks":[{"kind":"definite","bytes":48,"blocks":1,"stack":[{"pc":"0x1","function":"make_widget","file":"/src/w.c","line":4,"module":"/src/app","offset":"0x1"}]}],"summary":{},"stats":{}}'
# the reports directory, as a program run by mpcheck finds it
DIR='d=${MPWRAP_OPTIONS#*json_path=}; d=${d%%/mpwrap.*}'

# -------------------------------------------- a hostile report directory
# Each planted at a pid no kernel hands out (above pid_max's 2^22), in a
# directory only the run can write: a program under test is the adversary.

printf '%s\n' "$LEAK" | sed 's/@PID@/4999002/; s/@CMD@/elsewhere/' >"$T/elsewhere.json"
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
def put(name, data):
    with open(f"{t}/{name}", "wb") as f:
        f.write(data)
put("deep", b"[" * 200000 + b"]" * 200000)
put("deep2", b'{"version":1,"leaks":' + b"[" * 100 + b"]" * 100 + b"}")
put("list", b"[1, 2]")
put("leaks_str", b'{"version":1,"leaks":"many"}')
put("bytes_str", b'{"version":1,"errors":[],"leaks":[{"kind":"definite","bytes":"48","blocks":1,"stack":[]}]}')
put("frame_num", b'{"version":1,"errors":[{"kind":"double-free","stack":[7]}],"leaks":[]}')
put("latin1", b'\xff\xfe{"version":1}')
put("version_str", b'{"version":"1","leaks":[]}')
PY
plant="$DIR"'
mkfifo "$d/mpwrap.4999001.json"
ln -s "'$T'/elsewhere.json" "$d/mpwrap.4999002.json"
truncate -s 300M "$d/mpwrap.4999004.json"
mkdir "$d/mpwrap.4999005.json"
for f in deep:4999006 deep2:4999007 list:4999008 leaks_str:4999009 \
	bytes_str:4999010 frame_num:4999011 latin1:4999012 version_str:4999013; do
	cp "'$T'/${f%%:*}" "$d/mpwrap.${f#*:}.json"
done'
if [ "$(id -u)" = 0 ]; then
	plant="$plant"'; mknod "$d/mpwrap.4999003.json" c 1 3'
	devices=1
else
	devices=0
fi
# while the program runs (read at once) and after it (read at the end)
run --json "$T/hostile.json" -- bash -c "$plant; sleep 0.5; ./prog1"
expect "a hostile report directory: one note per planted file, the real report still read" 0 \
	"pid 4999001: ignored report mpwrap.4999001.json: a FIFO, not a regular file" \
	"pid 4999002: ignored report mpwrap.4999002.json: a symbolic link, not a regular file" \
	"pid 4999004: ignored report mpwrap.4999004.json: 314572800 bytes, more than the 268435456 read" \
	"pid 4999005: ignored report mpwrap.4999005.json: a directory, not a regular file" \
	"pid 4999006: ignored report mpwrap.4999006.json: nested deeper than 32 levels" \
	"pid 4999007: ignored report mpwrap.4999007.json: nested deeper than 32 levels" \
	"pid 4999008: ignored report mpwrap.4999008.json: a list, not an object" \
	"pid 4999009: ignored report mpwrap.4999009.json: leaks is a string, not a list" \
	"pid 4999010: ignored report mpwrap.4999010.json: leaks[0].bytes is a string" \
	"pid 4999011: ignored report mpwrap.4999011.json: errors[0].stack[0] is a number, not an object" \
	"pid 4999012: ignored report mpwrap.4999012.json: not UTF-8 (byte 0xff at offset 0)" \
	"pid 4999013: ignored report mpwrap.4999013.json: unsupported version '1'" \
	"0 suppressed; $((12 + devices)) reports ignored; gate: PASS"
if [ "$devices" = 1 ]; then
	check "a device named like a report is not opened, only noted" \
		grep -qF "pid 4999003: ignored report mpwrap.4999003.json: a character device, not a regular file" "$T/err"
else
	skip "a device named like a report (mknod needs root)"
fi
check "each planted file is noted once, not at every look" \
	test "$(grep -c 'ignored report' "$T/err")" = "$((12 + devices))"
check "the file a planted link points to is neither read nor deleted" \
	test -s "$T/elsewhere.json" -a "$(grep -c 'make_widget\|1 definite leak' "$T/err")" = 0
check "--json counts the ignored reports" \
	py "$T/hostile.json" 's=d["summary"]; assert s["ignored_reports"]=='"$((12 + devices))"' and s["gate"]=="PASS", s'
check "a hostile directory costs no hang: done in under 20 s" test "$secs" -lt 20

run --strict-reports -- bash -c "$DIR"'; mkfifo "$d/mpwrap.4999001.json"'
expect "--strict-reports: an ignored report fails the gate" 23 \
	"1 reports ignored; gate: FAIL"

mkdir "$T/away"
cp "$T/elsewhere.json" "$T/away/mpwrap.4999020.json"
run -- bash -c "$DIR"'; mv "$d" "$d.moved"; ln -s "'$T'/away" "$d"; sleep 0.5'
expect "a reports directory swapped for a link to elsewhere: nothing there is read" 0 "gate: PASS"
check "... nor deleted" test -s "$T/away/mpwrap.4999020.json"

# ------------------------------------------------ descendants left behind

# A daemon: forked twice, so its parent is gone when the program exits.
run --wait-descendants 1 --json "$T/daemon.json" -- \
	bash -c '(./tprog sleep 30000 & echo $! >'"$T"'/daemon.pid); exit 0'
expect "a descendant still running at the end is noted, not passed silently" 0 \
	"no report (./tprog sleep 30000): still running at the end, 1 s after the program exited" \
	"in 2 processes; 0 suppressed; 1 processes without a report; gate: PASS"
check "... after waiting --wait-descendants, not until it ends" test "$secs" -lt 10
check "... and it is left running" kill -0 "$(cat "$T/daemon.pid")"
kill -9 "$(cat "$T/daemon.pid")"
check "--json says how many processes left no report and why" \
	py "$T/daemon.json" 's=d["summary"]; assert s["without_report"]==1 and s["without_report_by_reason"]=={"still running":1}, s'

FAKE_MPWRAP_JSON_prog1=$LEAK run -- bash -c '(./tprog sleep 800; ./prog1) & exit 0'
expect "a descendant ending within --wait-descendants (default 2 s) is waited for: its leak gates" 23 \
	"1 definite leak (48 bytes)" "gate: FAIL"
check "... and none is without a report" test "$(grep -c 'without a report' "$T/err")" = 0

run --wait-descendants 0 --strict-reports -- \
	bash -c '(./tprog sleep 30000 & echo $! >'"$T"'/daemon2.pid); exit 0'
expect "--strict-reports: a descendant still running fails the gate" 23 \
	"1 processes without a report; gate: FAIL"
kill -9 "$(cat "$T/daemon2.pid")"

run --no-follow-children -- \
	bash -c '(./tprog sleep 30000 & echo $! >'"$T"'/daemon3.pid); exit 0'
expect "--no-follow-children: descendants are not waited for" 0 "gate: PASS"
check "... nor noted" test "$(grep -c 'without a report' "$T/err")" = 0 -a "$secs" -lt 10
kill -9 "$(cat "$T/daemon3.pid")"

run -- bash -c '(sleep 0.3; exec ./tprog kill) & exit 0'
expect "an orphaned descendant killed by SIGKILL is noted with the signal" 0 \
	"no report (tprog): killed by SIGKILL" "1 processes without a report; gate: PASS"

run --strict-reports ./tprog kill
expect "--strict-reports: the program killed by SIGKILL fails the gate" 23 \
	"no report from the program (killed by SIGKILL)" "1 processes without a report; gate: FAIL"

run --wait-descendants x ./tprog
check "--wait-descendants takes whole seconds" \
	test "$rc" = 125 -a "$(head -n 1 "$T/err")" = "mpcheck: --wait-descendants: expected an integer 0..86400, got 'x'"

# ------------------------------------------------- set-user-ID programs
# The loader ignores LD_PRELOAD in them (AT_SECURE): no report can come.

if [ "$(id -u)" = 0 ]; then
	chmod 755 "$T"
	cp tprog suid && chown nobody suid && chmod 4755 suid
	cp tprog sgid && chgrp nogroup sgid && chmod 2755 sgid
	run ./suid
	expect "a set-user-ID program: noted as such" 0 \
		"no report from the program (set-user-ID program: the loader ignores LD_PRELOAD" \
		"1 processes without a report; gate: PASS"
	run -- bash -c './sgid sleep 800; exit 0'
	expect "a set-group-ID descendant its parent reaps: seen running, noted" 0 \
		"no report (sgid): set-group-ID program" "1 processes without a report; gate: PASS"
	run -- bash -c '(sleep 0.3; exec ./suid) & exit 0'
	expect "an orphaned set-user-ID descendant: noted" 0 \
		"no report (suid): set-user-ID program" "1 processes without a report"
else
	skip "set-user-ID programs (needs root to make one owned by nobody)"
	skip "set-group-ID descendant"
	skip "orphaned set-user-ID descendant"
fi

# a descendant SIGKILLed and reaped by its own parent: the real library's
# start marker (start_path) is what tells (--system-leaks: sleep and bash
# are checked, not passed through)
REAL_LIB=$(cd "$here/../.." && pwd)/libmpwrap.so
if [ -f "$REAL_LIB" ]; then
	kill_one='sleep 5 & p=$!; sleep 0.3; kill -9 $p; wait $p; exit 0'
	MPWRAP_LIB=$REAL_LIB run --system-leaks -- bash -c "$kill_one"
	expect "a descendant SIGKILLed and reaped by its own parent is noted (start marker)" 0 \
		"it started under the library but ended without writing one" \
		"1 processes without a report" "gate: PASS"
	MPWRAP_LIB=$REAL_LIB run --system-leaks --strict-reports -- bash -c "$kill_one"
	expect "... and fails the gate with --strict-reports" 23 \
		"it started under the library but ended without writing one"
else
	skip "start markers: libmpwrap.so not built"
fi

# --json/--sarif never replace a link, a device or another user's file
ln -sf /dev/null "$T/to-null.json"
run --json "$T/to-null.json" -- ./prog1
expect "--json naming a link to a device: refused before the run" 125 \
	"--json: not replacing '$T/to-null.json': it is a symbolic link"
check "the link is left as it was" test -L "$T/to-null.json"
mkfifo "$T/fifo.sarif"
run --sarif "$T/fifo.sarif" -- ./prog1
expect "--sarif naming a FIFO: refused before the run" 125 \
	"--sarif: not replacing '$T/fifo.sarif': it is not a regular file"

echo "1..$n"
[ "$failed" = 0 ]
