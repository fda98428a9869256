#!/usr/bin/env bash
# t_mpcheck.sh - TAP tests for scripts/mpcheck.
#
# Runs against a fake libmpwrap.so (fake_libmpwrap.c, built here) whose
# at-exit JSON report is whatever the test puts in FAKE_MPWRAP_JSON or
# FAKE_MPWRAP_JSON_<program>, so every finding mpcheck sees is chosen here.
# Needs bash, cc and python3.  Usage: tests/mpcheck/t_mpcheck.sh
#
# Single quotes keep $VARS for the shells and pythons the tests start:
# shellcheck disable=SC2016
set -u

here=$(cd "$(dirname "$0")" && pwd)
MPCHECK=$(cd "$here/../.." && pwd)/scripts/mpcheck
T=$(mktemp -d "${TMPDIR:-/tmp}/t_mpcheck.XXXXXX")
trap 'rm -rf "$T"' EXIT
# The tests decide what is preloaded: a libmpwrap.so inherited from an outer
# mpcheck run (make check under mpcheck) must not leak into them.
unset LD_PRELOAD MPWRAP_OPTIONS MPWRAP_LIB FAKE_MPWRAP_JSON
export LC_ALL=C

W=$T/w                                  # working directory of every run
mkdir -p "$W/lib" "$W/src"
cd "$W" || exit 1
if ! cc -shared -fPIC -o lib/libmpwrap.so "$here/fake_libmpwrap.c" ||
   ! cc -shared -fPIC -o lib/libother.so -x c /dev/null ||
   ! cc -o tprog "$here/tprog.c"; then
	echo "1..0 # SKIP cannot build the fake library with cc"
	exit 0
fi
cp tprog prog1 && cp tprog prog2
export MPWRAP_LIB=$W/lib/libmpwrap.so

# ------------------------------------------------------------ harness

. "$here/tap.sh"

# run ARGS...: mpcheck's stdout to $T/out, stderr to $T/err, status in $rc.
run() { "$MPCHECK" "$@" >"$T/out" 2>"$T/err"; rc=$?; }

usage_line() { printf "mpcheck: %s\nTry 'mpcheck --help'." "$1"; }

# expect_error NAME MESSAGE: mpcheck's own status 125 and stderr is
# exactly MESSAGE.
expect_error() {
	local why=""
	[ "$rc" = 125 ] || why="exit status $rc, expected 125"
	[ "$(cat "$T/err")" = "$2" ] || why="$why; stderr is not: $2"
	report "$1" "$why"
}

# status_is_0 STATUS OUTPUT NAME: pass when STATUS is 0, else show OUTPUT.
status_is_0() {
	if [ "$1" = 0 ]; then report "$3" ""
	else report "$3" "status $1: $(tail -n 8 "$2")"; fi
}

# ---------------------------------------------------- report fixtures

q() { if [ "$1" = null ]; then echo null; else echo "\"$1\""; fi; }
frame() {   # FUNCTION FILE LINE MODULE
	printf '{"pc":"0x4011d6","function":%s,"file":%s,"line":%s,"module":%s,"offset":"0x11d6"}' \
		"$(q "$1")" "$(q "$2")" "$3" "$(q "$4")"
}
leak() {    # KIND BYTES BLOCKS FRAMES
	printf '{"kind":"%s","bytes":%s,"blocks":%s,"stack":[%s]}' "$@"
}
error() {   # KIND OFFSET STACK ALLOC_STACK FREE_STACK
	printf '{"kind":"%s","address":"0x7f0000001010","block_size":32,"offset":%s,"stack":[%s],"alloc_stack":[%s],"free_stack":[%s]}' "$@"
}
report_json() {   # ERRORS LEAKS
	printf '{"version":1,"pid":@PID@,"command":"@CMD@","errors":[%s],"leaks":[%s],"summary":{"leaks":{"definite":{"bytes":0,"blocks":0}},"errors":0},"stats":{"classes":[{"size":32,"total":4,"in_use":1,"free":3}],"large":{"blocks":0,"bytes":0}}}' "$1" "$2"
}

MALLOC=$(frame malloc null null "$MPWRAP_LIB")
FREE=$(frame free null null "$MPWRAP_LIB")
LIBC=$(frame __libc_start_call_main null null /lib/x86_64-linux-gnu/libc.so.6)
MAIN=$(frame main "$W/src/main.c" 10 "$W/app")
WIDGET=$(frame make_widget "$W/src/widget.c" 42 "$W/app")
PARSE=$(frame parse_config "$W/src/config.c" 88 "$W/app")
TWICE=$(frame free_twice "$W/src/twice.c" 7 "$W/app")
FOO=$(frame foo_init null null /usr/lib/x86_64-linux-gnu/libfoo.so.1)

LEAK_WIDGET=$(leak definite 48 1 "$MALLOC,$WIDGET,$MAIN,$LIBC")
LEAK_FOO=$(leak definite 16 1 "$MALLOC,$FOO,$MAIN,$LIBC")
LEAK_PARSE=$(leak indirect 64 2 "$MALLOC,$PARSE,$MAIN,$LIBC")
LEAK_POSSIBLE=$(leak possible 24 1 "$MALLOC,$PARSE,$MAIN")
DOUBLE_FREE=$(error double-free 0 "$FREE,$TWICE,$MAIN" "$MALLOC,$PARSE,$MAIN" "$FREE,$TWICE,$MAIN")
OVERFLOW=$(error heap-buffer-overflow 32 "$PARSE,$MAIN" "$MALLOC,$PARSE,$MAIN" "")
INVALID=$(error invalid-free 8 "$FREE,$TWICE,$MAIN" "" "")
UAF=$(error use-after-free 4 "" "" "")          # no symbols at all

CLEAN=$(report_json "" "")
WIDGET_ONLY=$(report_json "" "$LEAK_WIDGET")
MIXED=$(report_json "$DOUBLE_FREE,$OVERFLOW" "$LEAK_WIDGET,$LEAK_FOO,$LEAK_PARSE")

# --------------------------------------------------------- basics

run --version
check "--version prints 'mpcheck 0.1.0'" \
	test "$rc" = 0 -a "$(cat "$T/out")" = "mpcheck 0.1.0"
run --help
check "--help documents the options and exits 0" \
	test "$rc" = 0 -a "$(grep -c -e '--baseline-out FILE' -e '--no-follow-children' "$T/out")" = 2

FAKE_MPWRAP_JSON=$CLEAN run ./tprog
expect "clean run exits with the program's status 0" 0 \
	"mpcheck: 0 errors, 0 leaks (0 bytes): 0 distinct findings, 0 occurrences in 1 processes; 0 suppressed; gate: PASS"
check "clean run prints only the total line (and the library's report)" \
	test "$(grep -c '^mpcheck:' "$T/err")" = 1

FAKE_MPWRAP_JSON=$CLEAN run ./tprog 3
expect "no findings: the program's own exit status 3 passes through" 3 "gate: PASS"
FAKE_MPWRAP_JSON=$CLEAN run ./tprog 2
expect "make's failure status 2 passes through, unlike mpcheck's own 125" 2 "gate: PASS"

run -- tprog 4
expect "a name without '/' is looked up on PATH only" 125 "command not found"
PATH=$W:$PATH run -- tprog 5
expect "program found on PATH" 5

echo "piped input" | run cat
check "stdin and stdout of the program are inherited" \
	test "$(cat "$T/out")" = "piped input"

LD_PRELOAD=$W/lib/libother.so run --stack-depth 7 -- \
	sh -c 'echo "$LD_PRELOAD"; echo "$MPWRAP_OPTIONS"'
{ read -r preload; read -r options; } <"$T/out"
check "libmpwrap.so is prepended to an existing LD_PRELOAD" \
	test "$preload" = "$MPWRAP_LIB:$W/lib/libother.so"
LD_PRELOAD="/elsewhere/libmpwrap.so $W/lib/libother.so" run -- sh -c 'echo "$LD_PRELOAD"'
check "an inherited libmpwrap.so is replaced, not loaded twice" \
	test "$(cat "$T/out")" = "$MPWRAP_LIB:$W/lib/libother.so"
check "MPWRAP_OPTIONS carries json_path, exitcode=0, report_at_exit, leak_kinds, stack_depth, log_path in the run directory" \
	python3 -c '
import re, sys
o = dict(p.split("=", 1) for p in sys.argv[1].split(":"))
assert re.fullmatch(r"/.+/mpwrap\.%p\.json", o["json_path"]), o
assert o["exitcode"] == "0" and o["report_at_exit"] == "1", o
assert o["detect_leaks"] == "1", o
assert o["leak_kinds"] == "definite,indirect" and o["stack_depth"] == "7", o
# nothing of the library on the stderr of the program: the text reports
# wait in the directory of mpcheck, a clean process writes none
assert re.fullmatch(r"/.+/mpwrap\.%p\.log", o["log_path"]), o
assert o["verbosity"] == "0", o
# system programs pass through, leaving one line each beside the reports
assert o["system_passthrough"] == "1", o
assert o["passthrough_path"] == o["json_path"][:-len("json")] + "sys", o' "$options"

run --system-leaks --log-file "$T/my.%p.log" -- sh -c 'echo "$MPWRAP_OPTIONS"'
check "--system-leaks checks system programs too; --log-file is the text reports' path" \
	python3 -c '
import sys
o = dict(p.split("=", 1) for p in sys.argv[1].split(":"))
assert "system_passthrough" not in o and "passthrough_path" not in o, o
assert o["log_path"] == sys.argv[2], o' "$(cat "$T/out")" "$T/my.%p.log"

MPWRAP_OPTIONS='abort_on_error=1:exitcode=9 verbosity=2' run -- sh -c 'echo "$MPWRAP_OPTIONS"'
check "the user's own MPWRAP_OPTIONS survive unless mpcheck needs the key" \
	grep -q '^abort_on_error=1:exitcode=0:verbosity=2:json_path=' "$T/out"

# ------------------------------------------------------------- gate

FAKE_MPWRAP_JSON=$WIDGET_ONLY run ./tprog
expect "a definite leak fails the gate with status 23" 23 \
	"mpcheck: pid " "(./tprog): 1 definite leak (48 bytes)" \
	"mpcheck: 0 errors, 1 leaks (48 bytes): 1 distinct findings, 1 occurrences in 1 processes; 0 suppressed; gate: FAIL"

FAKE_MPWRAP_JSON=$WIDGET_ONLY run --exitcode 99 ./tprog 3
expect "--exitcode sets the gate status" 99 "gate: FAIL"

FAKE_MPWRAP_JSON=$MIXED run ./tprog
expect "per-process line counts every kind" 23 \
	"1 heap-buffer-overflow, 1 double-free, 2 definite leaks (64 bytes), 1 indirect leak (64 bytes)" \
	"mpcheck: 2 errors, 3 leaks (128 bytes): 5 distinct findings, 5 occurrences in 1 processes; 0 suppressed; gate: FAIL"

FAKE_MPWRAP_JSON=$WIDGET_ONLY run --no-leaks -- sh -c 'echo "$MPWRAP_OPTIONS"; exit 4'
expect "--no-leaks: leaks never gate" 4 "0 leaks (0 bytes)" "gate: PASS"
check "--no-leaks turns the leak scan off but keeps report_at_exit=1" \
	grep -q 'report_at_exit=1:detect_leaks=0:leak_kinds=:' "$T/out"

FAKE_MPWRAP_JSON=$(report_json "$OVERFLOW" "") run --no-leaks ./tprog
expect "--no-leaks: errors still gate" 23 "1 errors, 0 leaks (0 bytes): 1 distinct findings"

FAKE_MPWRAP_JSON=$(report_json "" "$LEAK_POSSIBLE") run ./tprog 6
expect "possible leaks do not gate by default" 6 "gate: PASS"
FAKE_MPWRAP_JSON=$(report_json "" "$LEAK_POSSIBLE") run --leak-kinds possible,definite ./tprog 6
expect "--leak-kinds possible makes them gate" 23 "1 possible leak (24 bytes)"
FAKE_MPWRAP_JSON=$(report_json "" "$LEAK_POSSIBLE") run --leak-kinds all ./tprog 6
expect "--leak-kinds all gates every kind" 23 "1 possible leak (24 bytes)"
FAKE_MPWRAP_JSON=$(report_json "" "$LEAK_WIDGET") run --leak-kinds=reachable -- \
	sh -c 'echo "$MPWRAP_OPTIONS"'
expect "--leak-kinds=reachable: definite leaks no longer gate" 0 "gate: PASS"
check "--leak-kinds is passed to the library with show_reachable" \
	grep -q 'leak_kinds=reachable:show_reachable=1' "$T/out"

# ----------------------------------------------------- suppressions

# From here on a run that names no report of its own gets MIXED: two
# errors and three leaks (widget, libfoo, parse_config).
export FAKE_MPWRAP_JSON=$MIXED
supp() { printf '%s\n' "$@" >"$T/s.supp"; }

supp 'leak:make_widget'
FAKE_MPWRAP_JSON=$WIDGET_ONLY run --suppressions "$T/s.supp" ./tprog
expect "suppression by function name" 0 "0 leaks (0 bytes): 0 distinct findings, 0 occurrences in 1 processes; 1 suppressed; gate: PASS"

supp '# a comment' '' '   ' 'leak:widget.c'
FAKE_MPWRAP_JSON=$WIDGET_ONLY run --suppressions "$T/s.supp" ./tprog
expect "suppression by file name, comments and blank lines ignored" 0 "1 suppressed; gate: PASS"

supp 'leak:libfoo.so'
FAKE_MPWRAP_JSON=$(report_json "" "$LEAK_FOO") run --suppressions "$T/s.supp" ./tprog
expect "suppression by module name" 0 "1 suppressed; gate: PASS"

supp 'leak:make_*'
FAKE_MPWRAP_JSON=$WIDGET_ONLY run --suppressions "$T/s.supp" ./tprog
expect "suppression with a * wildcard" 0 "1 suppressed; gate: PASS"

supp 'leak:^widget'
FAKE_MPWRAP_JSON=$WIDGET_ONLY run --suppressions "$T/s.supp" ./tprog
expect "a ^-anchored pattern does not match mid-name" 23 "0 suppressed; gate: FAIL"

supp 'leak:free_twice'
FAKE_MPWRAP_JSON=$(report_json "$DOUBLE_FREE" "") run --suppressions "$T/s.supp" ./tprog
expect "a leak: entry does not suppress a double-free" 23 "1 errors, 0 leaks (0 bytes): 1 distinct findings"

supp 'double-free:free_twice' 'heap-buffer-overflow:parse_config' \
	'invalid-free:*' 'use-after-free:*'
FAKE_MPWRAP_JSON=$(report_json "$DOUBLE_FREE,$OVERFLOW,$INVALID,$UAF" "") \
	run --suppressions "$T/s.supp" ./tprog
expect "error kinds suppressed by name and '*'" 0 \
	"0 errors, 0 leaks (0 bytes): 0 distinct findings, 0 occurrences in 1 processes; 4 suppressed; gate: PASS"

printf 'leak:make_widget\n' >"$T/a.supp"
printf 'leak:indirect-nothing\nleak:foo_init\n' >"$T/b.supp"
FAKE_MPWRAP_JSON=$(report_json "" "$LEAK_WIDGET,$LEAK_FOO,$LEAK_PARSE") \
	run --suppressions "$T/a.supp" --suppressions "$T/b.supp" ./tprog
expect "--suppressions may repeat" 23 "0 errors, 1 leaks (64 bytes): 1 distinct findings" "2 suppressed"

run --gen-suppressions ./tprog
expect "--gen-suppressions prints an entry per new finding" 23 \
	"# definite, first in pid " ": ./tprog" "leak:make_widget" "leak:foo_init" "leak:parse_config" \
	"double-free:free_twice" "heap-buffer-overflow:parse_config"
grep -v -e '^mpcheck:' -e '^fake-mpwrap:' "$T/err" >"$T/gen.supp"
check "--gen-suppressions names the user frame, never malloc/free" \
	test "$(grep -c -e ':malloc$' -e ':free$' "$T/gen.supp")" = 0
run --suppressions "$T/gen.supp" ./tprog 7
expect "the generated entries suppress every finding" 7 "5 suppressed; gate: PASS"
FAKE_MPWRAP_JSON=$(report_json "$UAF" "$(leak definite 8 1 "$MALLOC,$MAIN")") \
	run --gen-suppressions ./tprog
expect "--gen-suppressions warns about main and unnamed stacks" 23 \
	"# 'main' is on every stack: narrow this entry by hand" "leak:main" \
	"# use-after-free: no symbolized frame outside the runtime to name"

# --------------------------------------------------------- baseline

run --baseline-out "$T/base.supp" ./tprog 3
expect "--baseline-out: the exit status is the program's own, the gate is skipped" 3 \
	"gate: SKIPPED" "mpcheck: wrote 5 entries to $T/base.supp"
check "--baseline-out never prints gate: FAIL" test "$(grep -c 'gate: FAIL' "$T/err")" = 0
check "--baseline-out writes one suppression line per finding" \
	test "$(grep -v '^#' "$T/base.supp" | sort | tr '\n' ' ')" = \
	"double-free:free_twice heap-buffer-overflow:parse_config leak:foo_init leak:make_widget leak:parse_config "
run --suppressions "$T/a.supp" --baseline-out "$T/base2.supp" ./tprog
check "--baseline-out leaves out findings already suppressed" \
	test "$(grep -c -e '^leak:make_widget$' -e '^leak:foo_init$' "$T/base2.supp")" = 1
check "--baseline-out leaves no temp file behind" \
	test -z "$(find "$T" -maxdepth 1 -name '*.tmp')"

run --baseline "$T/base.supp" --json "$T/b.json" ./tprog
expect "with the baseline the same findings pass" 0 \
	"0 errors, 0 leaks (0 bytes): 0 distinct findings, 0 occurrences in 1 processes; 5 suppressed; gate: PASS"
check "baseline findings are marked baseline, not suppressed" \
	py "$T/b.json" 'f=d["findings"]; assert len(f)==5 and all(x["baseline"] and not x["suppressed"] for x in f), f'

FAKE_MPWRAP_JSON=$(report_json "$INVALID" "$LEAK_WIDGET") run --baseline "$T/base.supp" ./tprog
expect "a new finding fails the gate despite the baseline" 23 \
	"1 errors, 0 leaks (0 bytes): 1 distinct findings, 1 occurrences in 1 processes; 1 suppressed; gate: FAIL"

run --baseline "$T/nonexistent.supp" ./tprog
expect_error "a missing baseline file says how to create it" \
	"mpcheck: baseline file '$T/nonexistent.supp' does not exist; create it with a first run: --baseline-out $T/nonexistent.supp"
run --baseline "$T" ./tprog
expect_error "unreadable baseline file" \
	"mpcheck: cannot read baseline file '$T': it is a directory, not a file"

# ------------------------------------------- aggregated JSON, children

FAKE_MPWRAP_JSON=$CLEAN FAKE_MPWRAP_JSON_prog1=$WIDGET_ONLY \
FAKE_MPWRAP_JSON_prog2=$(report_json "$DOUBLE_FREE" "") \
	run --json "$T/agg.json" -- bash -c './prog1; ./prog2; exit 5'
expect "children: findings of every process gate" 23 \
	"(./prog1): 1 definite leak (48 bytes)" "(./prog2): 1 double-free" \
	"1 errors, 1 leaks (48 bytes): 2 distinct findings, 2 occurrences in 3 processes"
check "aggregated JSON holds every process and one entry per distinct finding" py "$T/agg.json" '
assert d["version"] == 1 and d["tool"] == "mpwrap"
cmds = sorted(p["command"] for p in d["processes"])
assert cmds == ["./prog1", "./prog2", "bash -c ./prog1; ./prog2; exit 5"], cmds
f = {x["examples"][0]["command"]: x for x in d["findings"]}
assert set(f) == {"./prog1", "./prog2"}, f
assert f["./prog1"]["kind"] == "definite" and f["./prog1"]["bytes"] == 48
assert f["./prog2"]["kind"] == "double-free" and f["./prog2"]["type"] == "error"
assert all(x["processes"] == x["occurrences"] == 1 for x in d["findings"])
pids = {p["command"]: p["pid"] for p in d["processes"]}
assert all(x["examples"] == [{"pid": pids[c], "command": c}] for c, x in f.items())
assert all(x["suppressed"] is False and x["baseline"] is False for x in d["findings"])
assert all(len(x["fingerprint"]) == 32 for x in d["findings"])
s = d["summary"]
assert (s["processes"], s["errors"], s["leaks"], s["gate"], s["program_status"]) == (3, 1, 1, "FAIL", 5), s'
py "$T/agg.json" 'print(sorted(x["fingerprint"] for x in d["findings"]))' >"$T/fp1"
FAKE_MPWRAP_JSON=$CLEAN FAKE_MPWRAP_JSON_prog1=$WIDGET_ONLY \
FAKE_MPWRAP_JSON_prog2=$(report_json "$DOUBLE_FREE" "") \
	run --json "$T/agg2.json" -- bash -c './prog1; ./prog2; exit 5'
py "$T/agg2.json" 'print(sorted(x["fingerprint"] for x in d["findings"]))' >"$T/fp2"
check "fingerprints are stable across runs (other pids)" cmp -s "$T/fp1" "$T/fp2"

FAKE_MPWRAP_JSON=$CLEAN FAKE_MPWRAP_JSON_prog1=$WIDGET_ONLY \
FAKE_MPWRAP_JSON_prog2=$(report_json "$DOUBLE_FREE" "") \
	run --json "$T/sh.json" -- sh -c './prog1; ./prog2'
expect "sh -c 'prog1; prog2': each child's report counts" 23 "1 errors, 1 leaks (48 bytes): 2 distinct findings"
check "sh -c 'prog1; prog2': both children are in the aggregated JSON" py "$T/sh.json" '
cmds = [p["command"] for p in d["processes"]]
assert "./prog1" in cmds and "./prog2" in cmds, cmds
assert sorted(f["kind"] for f in d["findings"]) == ["definite", "double-free"]'

FAKE_MPWRAP_JSON=$CLEAN FAKE_MPWRAP_JSON_prog1=$WIDGET_ONLY \
	run --no-follow-children -- bash -c 'exec ./prog1'
expect "--no-follow-children keeps a program exec'd in the direct child" 23 \
	"(./prog1): 1 definite leak (48 bytes)" "in 1 processes"
FAKE_MPWRAP_JSON=$CLEAN FAKE_MPWRAP_JSON_prog1=$WIDGET_ONLY \
	run --no-follow-children --json "$T/direct.json" -- bash -c './prog1; exit 5'
expect "--no-follow-children ignores the children's findings" 5 \
	"0 leaks (0 bytes): 0 distinct findings, 0 occurrences in 1 processes; 0 suppressed; gate: PASS"
check "--no-follow-children keeps only the direct child's report" \
	py "$T/direct.json" 'assert [p["command"] for p in d["processes"]] == ["bash -c ./prog1; exit 5"], d["processes"]'
FAKE_MPWRAP_JSON=$CLEAN FAKE_MPWRAP_JSON_prog1=$WIDGET_ONLY \
	run --no-follow-children --follow-children -- bash -c './prog1; exit 5'
expect "--follow-children (the default) restores them" 23 "in 2 processes"

# ------------------------------------------------------------ SARIF

run --sarif "$T/out.sarif" ./tprog
expect "--sarif run" 23
check "SARIF 2.1.0 log structure" py "$T/out.sarif" '
assert d["version"] == "2.1.0"
assert d["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
run, = d["runs"]
drv = run["tool"]["driver"]
assert drv["name"] == "mpwrap"
ids = [r["id"] for r in drv["rules"]]
assert sorted(ids) == ["definite", "double-free", "heap-buffer-overflow", "indirect"], ids
assert all(r["shortDescription"]["text"] and r["defaultConfiguration"]["level"] == "error" for r in drv["rules"])
res = run["results"]
assert len(res) == 5, len(res)
for r in res:
    assert r["level"] == "error" and ids[r["ruleIndex"]] == r["ruleId"]
    assert "pid " in r["message"]["text"] and "./tprog" in r["message"]["text"]
    tf = r["codeFlows"][0]["threadFlows"][0]["locations"]
    assert len(tf) >= 2 and all("location" in l for l in tf)
    assert r["partialFingerprints"]["mpwrapFingerprint/v1"]
'
check "SARIF location is the first user frame, relative to the cwd, with its line" py "$T/out.sarif" '
res = d["runs"][0]["results"]
widget, = [r for r in res if "make_widget" in json.dumps(r["locations"])]
assert widget["ruleId"] == "definite"
loc = widget["locations"][0]["physicalLocation"]
assert loc["artifactLocation"]["uri"] == "src/widget.c" and loc["region"]["startLine"] == 42, loc
df = [r for r in res if r["ruleId"] == "double-free"][0]
assert df["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/twice.c"
assert len(df["codeFlows"]) == 3
assert df["codeFlows"][0]["threadFlows"][0]["locations"][0]["location"]["logicalLocations"][0]["fullyQualifiedName"] == "free"
foo = [r for r in res if "foo_init" in json.dumps(r["codeFlows"])][0]
assert foo["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/main.c", foo["locations"]
'
run --sarif "$T/supp.sarif" --suppressions "$T/a.supp" ./tprog
check "suppressed findings are left out of the SARIF log" py "$T/supp.sarif" '
res = d["runs"][0]["results"]
assert len(res) == 4 and "make_widget" not in json.dumps([r["locations"] for r in res])'

FAKE_MPWRAP_JSON=$(report_json "$UAF" "$(leak definite 16 1 "$MALLOC,$FOO")") \
	run --sarif "$T/fallback.sarif" --baseline "$T/base.supp" ./tprog
check "SARIF without source files: first module outside the runtime; no stack: the program; baselineState" py "$T/fallback.sarif" '
leak, = [r for r in d["runs"][0]["results"] if r["ruleId"] == "definite"]
uaf, = [r for r in d["runs"][0]["results"] if r["ruleId"] == "use-after-free"]
assert leak["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "file:///usr/lib/x86_64-linux-gnu/libfoo.so.1"
assert "region" not in leak["locations"][0]["physicalLocation"]
assert uaf["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "tprog"
assert uaf["locations"][0]["message"]["text"] == "no stack was recorded"
assert "codeFlows" not in uaf
assert (leak["baselineState"], uaf["baselineState"]) == ("unchanged", "new")'

FAKE_MPWRAP_JSON=$CLEAN run --sarif "$T/clean.sarif" --json "$T/clean.json" ./tprog
check "SARIF of a clean run" py "$T/clean.sarif" '
assert d["runs"][0]["results"] == [] and d["runs"][0]["tool"]["driver"]["rules"] == []'
check "JSON of a clean run" py "$T/clean.json" '
assert d["findings"] == [] and len(d["processes"]) == 1 and d["summary"]["gate"] == "PASS"'

# the location is in the user's code: not a system header, not the runtime
CXXHDR=$(frame 'std::vector<int>::push_back' /usr/include/c++/12/bits/stl_vector.h 1287 "$W/app")
EXIT_ERR=$(error heap-buffer-overflow 16 "" "$MALLOC,$CXXHDR,$WIDGET,$MAIN" "")
EVICT_ERR=$(error use-after-free 4 "" "" "$FREE,$TWICE,$MAIN")
FAKE_MPWRAP_JSON=$(report_json "$EXIT_ERR,$EVICT_ERR" "$(leak definite 8 1 "$MALLOC,$CXXHDR,$PARSE,$MAIN")") \
	run --sarif "$T/where.sarif" ./tprog
check "SARIF: system headers skipped; errors found at exit placed at the allocation or free stack" \
	py "$T/where.sarif" '
uri = lambda r: (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                 r["locations"][0]["physicalLocation"]["region"]["startLine"])
got = {r["ruleId"]: uri(r) for r in d["runs"][0]["results"]}
assert got == {"heap-buffer-overflow": ("src/widget.c", 42), "use-after-free": ("src/twice.c", 7),
               "definite": ("src/config.c", 88)}, got'

# Damage found late (at the free): placed at the user frame of the
# allocation, never at the free path (cleanup code) that found it.  URIs
# relative to git's top level of the sources, '..' resolved, from any
# working directory; --source-root overrides.
if command -v git >/dev/null 2>&1; then
	R=$T/repo
	mkdir -p "$R/src" "$R/build/tests" "$T/elsewhere"
	git -C "$R" init -q
	ALLOC_USER=$(frame cJSON_New_Item "$R/build/tests/../../src/cJSON.c" 205 "$R/build/tests/misc_tests")
	CLEANUP=$(frame cJSON_Delete "$R/build/tests/../../src/cJSON.c" 260 "$R/build/tests/misc_tests")
	TESTMAIN=$(frame main "$R/build/tests/../../tests/misc_tests.c" 31 "$R/build/tests/misc_tests")
	LATE=$(printf '{"kind":"heap-buffer-overflow","address":"0x7f000000101a","block_size":10,"offset":10,"count":1,"description":"1 guard byte changed","stack":[%s],"alloc_stack":[%s],"free_stack":[]}' \
		"$FREE,$CLEANUP,$TESTMAIN" "$MALLOC,$ALLOC_USER,$TESTMAIN")
	(cd "$T/elsewhere" && FAKE_MPWRAP_JSON=$(report_json "$LATE" "") \
		"$MPCHECK" --sarif "$T/late.sarif" "$W/tprog" >"$T/out" 2>"$T/err")
	rc=$?
	expect "a late overflow gates; the summary says why it was not rerun" 23 \
		"heap-buffer-overflow not located (not rerun: its allocation site has no module+offset to target)"
	check "SARIF: late damage at the allocation's user frame; URI relative to git's top level, '..' resolved, SRCROOT" py "$T/late.sarif" '
run = d["runs"][0]
r, = run["results"]
loc = r["locations"][0]
assert loc["logicalLocations"][0]["fullyQualifiedName"] == "cJSON_New_Item", loc
assert loc["physicalLocation"] == {"artifactLocation": {"uri": "src/cJSON.c", "uriBaseId": "SRCROOT"},
                                   "region": {"startLine": 205}}, loc
assert run["originalUriBaseIds"] == {"SRCROOT": {"uri": "file://'"$(cd "$R" && pwd -P)"'/"}}, run["originalUriBaseIds"]
uris = [l["location"]["physicalLocation"]["artifactLocation"] for f in r["codeFlows"]
        for l in f["threadFlows"][0]["locations"] if "misc_tests.c" in json.dumps(l["location"].get("physicalLocation"))]
assert uris and all(u == {"uri": "tests/misc_tests.c", "uriBaseId": "SRCROOT"} for u in uris), uris'
	(cd "$T/elsewhere" && FAKE_MPWRAP_JSON=$(report_json "$LATE" "") \
		"$MPCHECK" --source-root "$R/src" --sarif "$T/root.sarif" "$W/tprog" >"$T/out" 2>"$T/err")
	check "--source-root: URIs relative to it; files outside it absolute" py "$T/root.sarif" '
run = d["runs"][0]
r, = run["results"]
assert r["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "cJSON.c", "uriBaseId": "SRCROOT"}
assert run["originalUriBaseIds"]["SRCROOT"]["uri"].endswith("/repo/src/")
tf = r["codeFlows"][0]["threadFlows"][0]["locations"]
outside = [l["location"]["physicalLocation"]["artifactLocation"] for l in tf
           if "misc_tests.c" in json.dumps(l)]
assert outside and outside[0]["uri"].startswith("file:///") and outside[0]["uri"].endswith("/repo/tests/misc_tests.c") \
    and "uriBaseId" not in outside[0], outside'
	run --source-root "$T/nodir" ./tprog
	expect_error "--source-root that is not a directory" "mpcheck: --source-root: '$T/nodir' is not a directory"
else
	skip "SARIF URIs relative to git's top level (no git)"
fi

# ------------------------------------------- one finding per distinct problem

# 150 processes with the same 200 leak stacks: 200 results, not 30,000
gen() { python3 "$here/gen_reports.py" "$@"; }
FAKE_MPWRAP_JSON=$CLEAN run --json "$T/dedup.json" --sarif "$T/dedup.sarif" \
	-- python3 "$here/gen_reports.py" 150 200 0
expect "150 processes x 200 stacks: 200 distinct findings, 30000 occurrences" 23 \
	"mpcheck: 0 errors, 200 leaks (480000 bytes): 200 distinct findings, 30000 occurrences in 151 processes; 0 suppressed; gate: FAIL"
check "150 x 200: 200 SARIF results, each in 150 processes with 3 examples" py "$T/dedup.sarif" '
res = d["runs"][0]["results"]
assert len(res) == 200, len(res)
assert all(r["properties"]["processes"] == 150 == r["properties"]["occurrences"] for r in res)
assert all(len(r["properties"]["examples"]) == 3 for r in res)
assert all(re.search(r"in 150 processes, e[.]g[.] pid 10000[01][0-9][0-9] [(][.]/test_", r["message"]["text"]) for r in res), res[0]["message"]'
check "150 x 200: 200 JSON findings with totals, example pids and command lines" py "$T/dedup.json" '
f = d["findings"]
assert len(f) == 200 and len({x["fingerprint"] for x in f}) == 200
x = f[0]
assert (x["processes"], x["occurrences"], x["bytes"], x["blocks"]) == (150, 150, 2400, 150), x
assert all(e["command"] == "./test_%d --case %d" % ((e["pid"] - 10000000,) * 2) for e in x["examples"]), x["examples"]
s = d["summary"]
assert (s["findings"], s["occurrences"], s["leaks"], s["processes"]) == (200, 30000, 200, 151), s'

# per-process entries of --json: the largest N groups listed, the rest counted
FAKE_MPWRAP_JSON=$(report_json "$DOUBLE_FREE,$OVERFLOW,$INVALID" "$LEAK_WIDGET,$LEAK_FOO,$LEAK_PARSE") \
	run --max-groups 2 --json "$T/cap.json" ./tprog
check "--max-groups 2: two errors and the two largest leaks listed, the rest counted" py "$T/cap.json" '
p, = d["processes"]
assert [l["bytes"] for l in p["leaks"]] == [64, 48], p["leaks"]
assert len(p["errors"]) == 2 and p["errors_not_listed"] == 1, p
assert p["leaks_not_listed"] == {"groups": 1, "bytes": 16, "blocks": 1}, p["leaks_not_listed"]
assert len(d["findings"]) == 6'
run --max-groups x ./tprog
expect_error "--max-groups validates its number" \
	"$(usage_line "--max-groups: expected an integer 0..1000000, got 'x'")"

# 1,000 processes x 1,000 findings (990 shared, 10 each its own: 10,990
# distinct, past the 10,000 listed): memory and output stay bounded
FAKE_MPWRAP_JSON=$CLEAN python3 - "$MPCHECK" "$T" "$here/gen_reports.py" >"$T/scale" 2>&1 <<'PY'
import json, os, resource, subprocess, sys, time
mpcheck, t, gen = sys.argv[1:]
start = time.time()
rc = subprocess.call([mpcheck, "--quiet", "--json", t + "/big.json", "--sarif",
                      t + "/big.sarif", "--", "python3", gen, "1000", "990", "10"],
                     stderr=open(t + "/big.err", "w"))
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
sizes = [os.path.getsize(t + f) // 2**20 for f in ("/big.json", "/big.sarif")]
print(f"# 1000 x 1000: status {rc}, peak RSS {rss} MB, JSON {sizes[0]} MB, "
      f"SARIF {sizes[1]} MB, {time.time() - start:.0f} s")
assert rc == 23, rc
assert rss < 200, f"peak RSS {rss} MB"
assert sizes[0] < 20 and sizes[1] < 40, sizes
d = json.load(open(t + "/big.json"))
s = d["summary"]
assert (s["processes"], s["findings"], s["occurrences"], s["findings_not_listed"]) == \
    (1001, 10990, 1000000, 990), s
assert len(d["findings"]) == 10000 and s["leak_bytes"] == 16000000
assert all(p["leaks_not_listed"]["groups"] == 990 for p in d["processes"] if p["leaks"])
assert len(json.load(open(t + "/big.sarif"))["runs"][0]["results"]) == 10000
err = open(t + "/big.err").read().splitlines()
assert len(err) < 200 and err[-1].endswith("gate: FAIL"), (len(err), err[-3:])
assert err[-2].startswith("mpcheck: ... and 10980 more gating findings"), err[-2]
PY
scale_rc=$?
head -n 1 "$T/scale"
status_is_0 "$scale_rc" "$T/scale" \
	"1000 processes x 1000 findings: peak RSS < 200 MB, JSON < 20 MB, exact totals"

# ------------------------------------------------- default suppressions

STDIO=$(frame _IO_file_doallocate null null /lib/x86_64-linux-gnu/libc.so.6)
LOCALE=$(frame setlocale null null /lib/x86_64-linux-gnu/libc.so.6)
MINE=$(frame my_setlocale_cache "$W/src/loc.c" 3 "$W/app")
GLIBC_OWN=$(report_json "" "$(leak reachable 4096 1 "$MALLOC,$STDIO,$MAIN"),$(leak reachable 100 1 "$MALLOC,$LOCALE,$MAIN")")
FAKE_MPWRAP_JSON=$GLIBC_OWN run --leak-kinds all ./tprog 4
expect "--leak-kinds all: the C library's stdio buffer and locale data are suppressed" 4 \
	"0 leaks (0 bytes): 0 distinct findings, 0 occurrences in 1 processes; 2 suppressed; gate: PASS"
FAKE_MPWRAP_JSON=$(report_json "" "$(leak reachable 4096 1 "$MALLOC,$STDIO,$MAIN"),$(leak reachable 7 1 "$MALLOC,$MAIN")") \
	run --leak-kinds all ./tprog 4
expect "a leak in main itself is not taken for the suppressed stdio buffer (same user frames)" 23 \
	"(./tprog 4): 1 reachable leak (7 bytes)" "1 distinct findings, 1 occurrences in 1 processes; 1 suppressed"
FAKE_MPWRAP_JSON=$GLIBC_OWN run --leak-kinds all --no-default-suppressions ./tprog 4
expect "--no-default-suppressions: they gate" 23 "2 leaks (4196 bytes)"
FAKE_MPWRAP_JSON=$(report_json "" "$(leak reachable 10 1 "$MALLOC,$MINE,$MAIN")") \
	run --leak-kinds all ./tprog
expect "default suppressions are anchored: my_setlocale_cache still gates" 23 "1 reachable leak"
run --print-default-suppressions
check "--print-default-suppressions lists them and exits 0" \
	test "$rc" = 0 -a "$(grep -c '^leak:^_IO_file_doallocate\$$' "$T/out")" = 1
cp "$T/out" "$T/default.supp"
FAKE_MPWRAP_JSON=$GLIBC_OWN run --leak-kinds all --no-default-suppressions \
	--suppressions "$T/default.supp" ./tprog 4
expect "the printed list is a valid suppression file" 4 "2 suppressed; gate: PASS"

# ------------------------------------------------- text report, quiet

run --log-file "$T/lib.%p.log" ./tprog
check "--log-file sends the library report there (%p = pid)" \
	sh -c "cat '$T'/lib.*.log | grep -q 'fake-mpwrap: report for pid'"
check "--log-file keeps it off stderr" test "$(grep -c fake-mpwrap "$T/err")" = 0

run --quiet ./tprog
expect "--quiet: a failing gate shows the gating findings' stacks" 23 "gate: FAIL" \
	"mpcheck: pid " " (./tprog): double-free: at 0x7f0000001010: offset 0 of a 32-byte block [in 1 process]" \
	"mpcheck:     #0 free_twice in $W/src/twice.c:7 ($W/app+0x11d6)" \
	"mpcheck:     #0 make_widget in $W/src/widget.c:42 ($W/app+0x11d6)"
check "--quiet: no library report, no per-process lines, the total line last" \
	sh -c "! grep -q -e fake-mpwrap -e ': 1 heap-buffer-overflow, 1 double-free' '$T/err' &&
		tail -n 1 '$T/err' | grep -q '^mpcheck: 2 errors, 3 leaks .*gate: FAIL$'"
FAKE_MPWRAP_JSON=$CLEAN run -q ./tprog
check "--quiet and no findings: silent" test "$rc" = 0 -a ! -s "$T/err"

# ------------------------------------- stacks in the summary, relayed reports

FAKE_MPWRAP_JSON=$MIXED run ./tprog
check "the summary lists each gating finding with its process and stack, malloc's frame left out" python3 -c '
import sys
err = open(sys.argv[1]).read().splitlines()
w = sys.argv[2]
i = next(i for i, l in enumerate(err) if l.endswith("(./tprog): definite leak of 48 bytes in 1 blocks [in 1 process]"))
assert err[i + 1] == "mpcheck:     #0 make_widget in %s/src/widget.c:42 (%s/app+0x11d6)" % (w, w), err[i + 1]
assert err[i + 2].startswith("mpcheck:     #1 main in "), err[i + 2]
d = next(i for i, l in enumerate(err) if ": double-free: " in l)
assert err[d + 1].startswith("mpcheck:     #0 free_twice in "), err[d + 1]
assert err[d + 3] == "mpcheck:   allocated by:" and "#0 parse_config" in err[d + 4], err[d:d + 5]
assert "freed by:" in "\n".join(err[d:d + 9])
assert err[-1].endswith("gate: FAIL"), err[-1]' "$T/err" "$W"

many=""
for i in $(seq 1 15); do
	many="$many${many:+,}$(leak definite $((100 + i)) 1 "$MALLOC,$(frame "leaker_$i" "$W/src/l.c" "$i" "$W/app"),$MAIN")"
done
FAKE_MPWRAP_JSON=$(report_json "" "$many") run ./tprog
expect "15 gating findings: the 10 largest with stacks, then a count" 23 \
	"mpcheck: ... and 5 more gating findings (--stacks N shows more; --json and --sarif list them)"
check "... the 10 largest, largest first" sh -c "
	[ \"\$(grep -o 'leaker_[0-9]*' '$T/err' | tr '\n' ' ')\" = 'leaker_15 leaker_14 leaker_13 leaker_12 leaker_11 leaker_10 leaker_9 leaker_8 leaker_7 leaker_6 ' ]"
FAKE_MPWRAP_JSON=$(report_json "" "$many") run --stacks 2 ./tprog
expect "--stacks 2" 23 "mpcheck: ... and 13 more gating findings"
check "--stacks 2: two stacks" test "$(grep -c 'leaker_' "$T/err")" = 2
FAKE_MPWRAP_JSON=$(report_json "" "$many") run --stacks 0 ./tprog
check "--stacks 0: no stacks, the count" sh -c "! grep -q leaker_ '$T/err' &&
	grep -qx 'mpcheck: ... and 15 more gating findings (--json and --sarif list them)' '$T/err'"
run --stacks 10001 ./tprog
expect_error "--stacks range" "$(usage_line "--stacks: expected an integer 0..10000, got '10001'")"

# The library's text report: relayed for the processes with gating findings
# only; a clean process's report never reaches the program's stderr.
FAKE_MPWRAP_JSON=$CLEAN FAKE_MPWRAP_JSON_prog1=$WIDGET_ONLY \
	run -- sh -c './tprog; ./prog1; ./prog2'
check "only the text report of the process with a gating finding is relayed" sh -c "
	[ \"\$(grep -c fake-mpwrap '$T/err')\" = 1 ] && grep -q '^fake-mpwrap: report for pid [0-9]* (./prog1)$' '$T/err'"
check "... before the summary" sh -c "
	[ \"\$(grep -n fake-mpwrap '$T/err' | cut -d: -f1)\" -lt \"\$(grep -n '^mpcheck: ' '$T/err' | head -1 | cut -d: -f1)\" ]"
FAKE_MPWRAP_JSON=$CLEAN FAKE_MPWRAP_JSON_prog1=$WIDGET_ONLY \
	run -q -- sh -c './tprog; ./prog1'
check "--quiet: no report relayed" test "$(grep -c fake-mpwrap "$T/err")" = 0
FAKE_MPWRAP_JSON=$CLEAN FAKE_MPWRAP_JSON_tprog=$WIDGET_ONLY \
	run -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do ./tprog; done'
check "reports relayed for the first 3 processes, the other 7 counted" sh -c "
	[ \"\$(grep -c fake-mpwrap '$T/err')\" = 3 ] &&
	grep -qxF 'mpcheck: ... and 7 more processes with gating findings, whose reports are not shown (--log-file PATH.%p keeps every one)' '$T/err'"

# ------------------------------------------ the program's own status
FAKE_MPWRAP_JSON=$CLEAN run --json "$T/st8.json" ./tprog 8
expect "a failing program is named beside the gate's verdict" 8 \
	"0 suppressed; gate: PASS (no unsuppressed findings); the program itself failed: status 8"
check "... and in the JSON summary" py "$T/st8.json" '
s = d["summary"]
assert s["program_failed"] is True and s["program_status"] == 8, s
assert s["program_verdict"] == "the program itself failed: status 8", s'
FAKE_MPWRAP_JSON=$CLEAN run -q ./tprog 8
check "--quiet: a failing program still gets the total line" sh -c "
	[ \"\$(wc -l <'$T/err')\" = 1 ] && grep -q 'the program itself failed: status 8$' '$T/err'"
run ./tprog 8
expect "a failing gate and a failing program" 23 "gate: FAIL; the program itself failed: status 8"
FAKE_MPWRAP_JSON=$CLEAN run --json "$T/st0.json" ./tprog
check "a program that passed: nothing said, program_failed false" sh -c "
	! grep -q 'the program itself' '$T/err' &&
	python3 -c 'import json,sys; s = json.load(open(sys.argv[1]))[\"summary\"]; assert s[\"program_failed\"] is False and s[\"program_verdict\"] is None' '$T/st0.json'"
FAKE_MPWRAP_JSON=$CLEAN run ./tprog kill
expect "a program killed by a signal" 137 "gate: PASS (no unsuppressed findings); the program itself was killed by SIGKILL: status 137"

# ---------------------------------------- progress on a terminal
# A pty as mpcheck's stderr: the progress line is drawn with \r, at most 4
# times a second, and erased before the summary; into a file, nothing.
cat >"$T/ptyrun.py" <<'PY'
import os, pty, subprocess, sys, time
master, slave = pty.openpty()
start = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
out = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:             # EIO: every writer has closed the pty
        break
    if not chunk:
        break
    out += chunk
rc = p.wait()
elapsed = time.monotonic() - start
sys.stdout.buffer.write(b"%d %.2f\n" % (rc, elapsed) + out)
PY
FAKE_MPWRAP_JSON=$WIDGET_ONLY python3 "$T/ptyrun.py" "$MPCHECK" -- sh -c \
	'for i in 1 2 3 4 5 6 7 8; do ./tprog sleep 200; done' >"$T/pty.out" 2>"$T/err"
check "on a terminal: a progress line redrawn with \\r, at most 4 times a second, erased at the end" python3 -c '
import re, sys
raw = open(sys.argv[1], "rb").read()
head, out = raw.split(b"\n", 1)
rc, elapsed = head.split()
out = out.decode()
draws = re.findall(r"\rmpcheck: (\d+) processes, (\d+) findings? so far\x1b\[K\r", out)
assert int(rc) == 23, rc
assert len(draws) >= 2, out[:300]
assert len(draws) <= float(elapsed) * 4 + 2, (len(draws), elapsed)
n = [int(p) for p, _ in draws]
assert n == sorted(n) and n[-1] >= 3 and int(draws[-1][1]) == 1, draws
last = out.rindex("so far")
assert out[last:].startswith("so far\x1b[K\r\r\x1b[K"), repr(out[last:last + 30])
assert "\r" not in out[last + 14:].replace("\r\n", ""), repr(out[last:])
assert out.rstrip().endswith("gate: FAIL"), repr(out[-80:])' "$T/pty.out"
FAKE_MPWRAP_JSON=$WIDGET_ONLY run -- sh -c 'for i in 1 2 3 4 5 6 7 8; do ./tprog sleep 200; done'
check "stderr not a terminal: no progress line" sh -c "! grep -q -e 'so far' -e \"\$(printf '\\r')\" '$T/err'"
FAKE_MPWRAP_JSON=$WIDGET_ONLY python3 "$T/ptyrun.py" "$MPCHECK" --no-progress -- sh -c \
	'for i in 1 2 3 4 5 6; do ./tprog sleep 200; done' >"$T/pty.out" 2>"$T/err"
check "--no-progress: none on a terminal either" sh -c "! grep -q 'so far' '$T/pty.out'"

# ------------------------------------------------ broken reports

FAKE_MPWRAP_JSON='{"version":1, "pid": @PID@, "err' run ./tprog 4
expect "a corrupt report is noted, not fatal" 4 \
	"mpcheck: pid " ": ignored report mpwrap." ".json: not valid JSON (Unterminated string" \
	"in 0 processes; 0 suppressed; 1 reports ignored; gate: PASS"
FAKE_MPWRAP_JSON='' run ./tprog 4
expect "an empty report is noted" 4 ".json: empty"
FAKE_MPWRAP_JSON='{"version":2}' run ./tprog
expect "an unknown report version is noted" 0 ".json: unsupported version 2"
run ./tprog kill
expect "killed by SIGKILL: 128+9 and a note" 137 \
	"no report from the program (killed by SIGKILL)" \
	"0 suppressed; 1 processes without a report; gate: PASS"
FAKE_MPWRAP_JSON=$CLEAN run -- bash -c \
	'd=${MPWRAP_OPTIONS#*json_path=}; : >"${d%%/mpwrap.*}/mpwrap.$$.json.tmp.$$"; kill -9 $$'
expect "a report left half-written is noted" 137 ": report incomplete (died while writing it)"

"$MPCHECK" -- sh -c ": >'$T/started'; exec sleep 5" >"$T/out" 2>"$T/err" &
mpcheck_pid=$!
# up to 30 s for the program to start (5 s was too short on a loaded
# machine: mpcheck got the signal before its handler, and said nothing)
for _ in $(seq 600); do [ -e "$T/started" ] && break; sleep 0.05; done
kill -TERM "$mpcheck_pid"
wait "$mpcheck_pid"
rc=$?
expect "SIGTERM is forwarded to the program; status 128+15" 143 "killed by SIGTERM"

# ------------------------------------------------------ usage errors

run --bogus ./tprog
expect_error "unknown option" "$(usage_line "unrecognized option '--bogus'")"
FAKE_MPWRAP_JSON=$CLEAN run ./tprog --bogus
expect "options after the program belong to the program" 0
run --json
expect_error "missing option argument" "$(usage_line "option '--json' requires an argument")"
run --quiet=1 ./tprog
expect_error "flag given a value" "$(usage_line "option '--quiet' takes no argument")"
run --json "$T/x.json"
expect_error "no program" "$(usage_line "no program given")"
run --leak-kinds definite,bogus ./tprog
expect_error "--leak-kinds validates names" \
	"$(usage_line "--leak-kinds: unknown leak kind 'bogus' (choose from definite, indirect, possible, reachable)")"
run --stack-depth 65 ./tprog
expect_error "--stack-depth range" "$(usage_line "--stack-depth: expected an integer 0..64, got '65'")"
run --stack-depth=-1 ./tprog
expect_error "--stack-depth rejects negatives" "$(usage_line "--stack-depth: expected an integer 0..64, got '-1'")"
run --exitcode 0 ./tprog
expect_error "--exitcode range" "$(usage_line "--exitcode: expected an integer 1..255, got '0'")"
run --exitcode 256 ./tprog
expect_error "--exitcode upper bound" "$(usage_line "--exitcode: expected an integer 1..255, got '256'")"
run --log-file "$T/a:b.log" ./tprog
expect_error "--log-file with ':' cannot be passed" \
	"$(usage_line "--log-file: path '$T/a:b.log' contains ':' or whitespace, which MPWRAP_OPTIONS cannot carry")"
run --log-file "$T/a b.log" ./tprog
expect_error "--log-file with a space cannot be passed" \
	"$(usage_line "--log-file: path '$T/a b.log' contains ':' or whitespace, which MPWRAP_OPTIONS cannot carry")"

# ------------------------------------------------------- bad input
# Each must fail before the program runs ($T/ran) and write no report.

ran() { printf 'touch %s/ran\n' "$T"; }
printf '#!/bin/sh\necho not run\n' >noexec
chmod 644 noexec
run nosuchprog-mpcheck
expect_error "missing program on PATH" "mpcheck: nosuchprog-mpcheck: command not found"
run ./nope
expect_error "missing program path" "mpcheck: ./nope: no such file or directory"
run ./noexec
expect_error "program not executable" "mpcheck: ./noexec: not executable"
run "$W/src"
expect_error "a directory is not executable" "mpcheck: $W/src: not executable"
printf '#!/bin/sh\nexit 6\n' >script.sh
chmod 755 script.sh
FAKE_MPWRAP_JSON=$CLEAN run ./script.sh
expect "a #! script is accepted" 6 "gate: PASS"

if cc -static -o static "$here/tprog.c" 2>/dev/null; then
	run ./static
	expect_error "static binary refused" \
		"mpcheck: ./static is statically linked; LD_PRELOAD cannot apply"
else
	skip "static binary refused (no static libc)"
fi

MPWRAP_LIB=$T/none.so run ./tprog
expect_error "MPWRAP_LIB naming a missing file" \
	"mpcheck: libmpwrap.so not found: MPWRAP_LIB=$T/none.so does not exist"

supp 'leak:ok' '# fine' 'frobnicate:foo'
run --suppressions "$T/s.supp" sh -c "$(ran)"
expect_error "malformed suppression line names file:line" \
	"mpcheck: $T/s.supp:3: malformed suppression line 'frobnicate:foo' (expected leak:PATTERN or <error-kind>:PATTERN)"
supp 'make_widget'
run --suppressions "$T/s.supp" ./tprog
expect_error "suppression line without a kind" \
	"mpcheck: $T/s.supp:1: malformed suppression line 'make_widget' (expected leak:PATTERN or <error-kind>:PATTERN)"
run --suppressions "$T/missing.supp" ./tprog
expect_error "unreadable suppression file" \
	"mpcheck: cannot read suppression file '$T/missing.supp': No such file or directory"
run --suppressions "$T" ./tprog
expect_error "suppression file that is a directory" \
	"mpcheck: cannot read suppression file '$T': it is a directory, not a file"

for opt in --log-file --json --sarif --baseline-out; do
	run "$opt" "$T/nodir/out" sh -c "$(ran)"
	expect_error "$opt into a missing directory" \
		"mpcheck: $opt: cannot write '$T/nodir/out': no directory '$T/nodir'"
done
run --json "$T" ./tprog
expect_error "--json naming a directory" "mpcheck: --json: cannot write '$T': is a directory"
if [ "$(id -u)" != 0 ]; then
	mkdir "$T/ro" && chmod 555 "$T/ro"
	run --sarif "$T/ro/x.sarif" ./tprog
	expect_error "--sarif into a read-only directory" \
		"mpcheck: --sarif: cannot write '$T/ro/x.sarif': directory '$T/ro' is not writable"
else
	skip "read-only directory (root can write anywhere)"
fi
mkdir "$T/gone"
run --json "$T/gone/r.json" -- sh -c "rm -r '$T/gone'"
expect "an output that cannot be written after the run: one line, status 125" 125 \
	"mpcheck: cannot write '$T/gone/r.json': No such file or directory"
check "... and no traceback" test "$(grep -c -e Traceback -e 'File \"' "$T/err")" = 0
check "no bad-input run started the program" test ! -e "$T/ran"
check "no bad-input run left a report" \
	test ! -e "$T/x.json" -a ! -e "$T/nodir"

# ------------------------------------------------- library lookup

inst=$T/inst
mkdir -p "$inst/bin" "$inst/lib/mpwrap/python/mpcheck"
cp "$MPCHECK" "$inst/bin/mpcheck"
# the package where make install puts it
cp "$(dirname "$MPCHECK")"/../mpcheck/*.py "$inst/lib/mpwrap/python/mpcheck/"
for d in bin . lib/mpwrap lib; do cp "$MPWRAP_LIB" "$inst/$d/libmpwrap.so"; done
for d in bin . lib/mpwrap lib; do
	(unset MPWRAP_LIB; "$inst/bin/mpcheck" -- sh -c 'echo "$LD_PRELOAD"') \
		>"$T/out" 2>"$T/err"
	rc=$?
	want=$(cd "$inst/$d" && pwd -P)/libmpwrap.so
	check "library found in <prefix>/$d (in lookup order)" \
		test "$rc" = 0 -a "$(cat "$T/out")" = "$want"
	rm "$want"
done
(unset MPWRAP_LIB; "$inst/bin/mpcheck" ./tprog) >"$T/out" 2>"$T/err"
rc=$?
expect_error "libmpwrap.so not found anywhere" \
	"mpcheck: libmpwrap.so not found (build it, install it beside mpcheck or set MPWRAP_LIB)"

# -------------------------------------------- every SARIF log, validated

sarifs=("$T"/*.sarif)
if python3 -c 'import jsonschema' 2>/dev/null; then
	python3 "$here/../sarif/check_sarif.py" "${sarifs[@]}" >"$T/check_sarif" 2>&1
	status_is_0 "$?" "$T/check_sarif" \
		"all ${#sarifs[@]} SARIF logs validate against SARIF 2.1.0 and every result has a location"
	# the check itself fails on a log with a stray property or no location
	py "$T/dedup.sarif" '
r = d["runs"][0]["results"]
r[0]["bogus"] = 1
del r[1]["locations"]
json.dump(d, open(sys.argv[1] + ".bad", "w"))'
	python3 "$here/../sarif/check_sarif.py" "$T/dedup.sarif.bad" >"$T/check_bad" 2>&1
	bad_rc=$?
	check "the SARIF check rejects a stray property and a result without a location" \
		test "$bad_rc" = 1 -a "$(grep -c -e "'bogus' was unexpected" -e 'result 1 (definite) has no location' "$T/check_bad")" = 2
else
	report "SARIF logs validate against the SARIF 2.1.0 schema" \
		"python3-jsonschema is missing (make test installs it: TEST_DEPS)"
fi

echo "1..$n"
[ "$failed" = 0 ]
