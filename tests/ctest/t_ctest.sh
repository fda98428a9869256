#!/usr/bin/env bash
# t_ctest.sh - docs/ci.md's CTest recipe: `ctest -T memcheck` with
# scripts/mpcheck-ctest as the memory checker (MEMORYCHECK_TYPE=Valgrind).
# A small CMake project (this directory) has two tests, `tidy` (clean) and
# `leaky` (one planted 48-byte leak): ctest's memcheck summary must count
# exactly one defect, a Memory Leak of `leaky`, with its stack in the log
# CTest keeps, leave the tests' own output alone, exit 0 (defects alone do
# not fail a ctest run) or 16 with --error-exitcode, and honour
# MEMORYCHECK_SUPPRESSIONS_FILE; and that the finding names the test
# `leaky`, under ctest -T memcheck and under `mpcheck ctest`.  Needs cmake (TEST_DEPS); skipped without.
set -u
ROOT=${MPWRAP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export MPWRAP_LIB=${MPWRAP_LIB:-$ROOT/libmpwrap.so}
unset LD_PRELOAD MPWRAP_OPTIONS
export LC_ALL=C
T=$(mktemp -d "${TMPDIR:-/tmp}/t_ctest.XXXXXX")
trap 'rm -rf "$T"' EXIT
: >"$T/err"
# shellcheck source=../mpcheck/tap.sh
. "$ROOT/tests/mpcheck/tap.sh"
WRAP=$ROOT/scripts/mpcheck-ctest
SRC=$ROOT/tests/ctest
B=$T/build

if ! command -v cmake >/dev/null || ! command -v ctest >/dev/null; then
	skip "cmake and ctest are not installed (make test installs them as root: TEST_DEPS)"
	echo "1..$n"
	exit 0
fi

# memcheck [ctest options...]: ctest -T memcheck in $B; output in $T/out
# (and $T/err for the harness), status in $rc.
memcheck() {
	(cd "$B" && ctest -T memcheck "$@") >"$T/out" 2>&1
	rc=$?
	cp "$T/out" "$T/err"
}

cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Debug -DMEMORYCHECK_TYPE=Valgrind \
	-DMEMORYCHECK_COMMAND="$WRAP" >"$T/err" 2>&1 &&
	make -s -C "$B" >>"$T/err" 2>&1
rc=$?
expect "the CMake project configures with MEMORYCHECK_TYPE=Valgrind, MEMORYCHECK_COMMAND=mpcheck-ctest and builds" 0
if [ "$rc" != 0 ]; then echo "1..$n"; exit 1; fi
leak_line=$(grep -n 'LEAK: allocated here' "$SRC/leaky.c" | cut -d: -f1)

memcheck
expect "ctest -T memcheck runs both tests and exits 0: a defect alone fails no ctest run, as with Valgrind" 0 \
	"1/2 MemCheck #1: tidy" "2/2 MemCheck #2: leaky" "100% tests passed"
why=""
defects=$(grep -E 'MemCheck: #[0-9]+: ' "$T/out")
[ "$(printf '%s\n' "$defects" | grep -c .)" = 1 ] &&
	printf '%s\n' "$defects" | grep -qE '^2/2 MemCheck: #2: leaky \.+ +Defects: 1$' ||
	why="per-test defect lines: [$defects]"
results=$(sed -n '/^Memory checking results:/,$p' "$T/out" | sed 1d)
[ "$results" = "Memory Leak - 1" ] || why="$why; results: [$results]"
report "the summary counts one defect, a Memory Leak, for leaky only (Defects: 1), none for tidy" "$why"

log=$B/Testing/Temporary/MemoryChecker.2.log
why=""
grep -qE '^==[0-9]+== 48 bytes in 1 blocks are definitely lost in loss record 1 of 1$' "$log" ||
	why="no memcheck-style loss record"
grep -qE "^==[0-9]+==    at 0x[0-9a-f]+: make_buffer \(.*tests/ctest/leaky.c:$leak_line\)\$" "$log" ||
	why="$why; no 'at make_buffer (leaky.c:$leak_line)' frame"
grep -qE '^==[0-9]+==    by 0x[0-9a-f]+: main \(.*leaky.c:[0-9]+\)$' "$log" || why="$why; no 'by main' frame"
[ -z "$why" ] || why="$why: $(head -c 600 "$log")"
report "leaky's MemoryChecker log: the loss record with make_buffer at leaky.c:$leak_line, then main" "$why"

why=""
grep -q '^==' "$B/Testing/Temporary/MemoryChecker.1.log" && why="tidy's log has a record"
xml=$(find "$B/Testing" -name DynamicAnalysis.xml | head -n 1)
python3 - "$xml" >"$T/py" 2>&1 <<'EOF' || why="$why; $(cat "$T/py")"
import sys, xml.etree.ElementTree as E
root = E.parse(sys.argv[1]).getroot()
da = root.find("DynamicAnalysis")
assert da.get("Checker") == "Valgrind", da.get("Checker")
got = {t.findtext("Name"): [(d.get("type"), d.text) for d in t.iter("Defect")]
       for t in da.iter("Test") if t.findtext("Name")}
assert got == {"leaky": [("Memory Leak", "1")]}, got
assert [d.get("Type") for d in da.find("DefectList")] == ["Memory Leak"]
EOF
report "DynamicAnalysis.xml: Checker Valgrind, leaky with one Memory Leak defect, tidy without" "$why"

why=""
grep -qF 'findings in 1 of 1 test: leaky' "$log" &&
	! grep -q 'findings in' "$B/Testing/Temporary/MemoryChecker.1.log" ||
	why=$(grep -h 'findings in' "$B"/Testing/Temporary/MemoryChecker.*.log)
report "the finding names its test: mpcheck-ctest finds 'leaky' (test 2 of ctest --show-only=json-v1, from the log's name) for MPWRAP_TEST_NAME" \
	"${why:-}"

# mpcheck running ctest itself: each test's process is ctest's child, its
# command matched with ctest --show-only=json-v1
(cd "$B" && "$ROOT/scripts/mpcheck" --json "$T/j.json" ctest) >"$T/out" 2>&1
rc=$?
cp "$T/out" "$T/err"
expect "mpcheck ctest: the leak fails the gate, attributed to leaky, and 2 tests counted" 23 \
	"findings in 1 of 2 tests: leaky" "[test leaky]: 1 definite leak (48 bytes)"
why=$(python3 - "$T/j.json" 2>&1 <<'EOF2'
import json, sys
j = json.load(open(sys.argv[1]))
got = ([f["tests"] for f in j["findings"] if not f["suppressed"]],
       sorted(p["test"]["name"] + ":" + p["test"]["from"]
              for p in j["processes"] if p["test"]))
want = ([["leaky"]], ["leaky:ctest", "tidy:ctest"])
if got != want:
    print(f"got {got}, expected {want}")
EOF2
)
report "mpcheck ctest: --json: the finding's tests are [leaky]; tidy and leaky's processes named from ctest" "$why"

# the selection of the run is the list counted; --test-dir is relative to
# where ctest started (it changes into it)
(cd "$T" && "$ROOT/scripts/mpcheck" --quiet ctest --test-dir build -R leaky) >"$T/out" 2>&1
rc=$?
cp "$T/out" "$T/err"
expect "mpcheck ctest --test-dir build -R leaky: findings in 1 of 1 test" 23 \
	"findings in 1 of 1 test: leaky"

# the test's own stdout and stderr are left as they are
"$WRAP" "--log-file=$T/tidy.log" "$B/tidy" >"$T/stdout" 2>"$T/stderr"
rc=$?
why=""
[ "$rc" = 0 ] || why="status $rc"
[ "$(cat "$T/stdout")" = tidy ] || why="$why; stdout: $(head -c 200 "$T/stdout")"
[ -s "$T/stderr" ] && why="$why; stderr: $(head -c 200 "$T/stderr")"
"$WRAP" "--log-file=$T/leaky.log" "$B/leaky" >"$T/stdout" 2>"$T/stderr"
[ "$?:$(cat "$T/stdout")" = "0:leaky x" ] && [ ! -s "$T/stderr" ] ||
	why="$why; leaky: status, stdout or stderr changed: $(head -c 200 "$T/stderr")"
report "the tests' own output is unchanged: stdout as plainly, nothing added to stderr (the summary goes to the log)" "$why"

memcheck --overwrite MemoryCheckCommandOptions=--error-exitcode=23
why=""
grep -qE '^[[:space:]]+2 - leaky \(Failed\)$' "$T/out" || why="leaky not listed as failed"
grep -q 'tidy (Failed)' "$T/out" && why="$why; tidy failed"
grep -qE '^Memory Leak - 1$' "$T/out" || why="$why; no 'Memory Leak - 1'"
[ "$rc" = 16 ] || why="$why; ctest exit status $rc, expected 16"
report "MEMORYCHECK_COMMAND_OPTIONS=--error-exitcode=23: leaky fails, tidy passes, ctest exits 16" "$why"

printf '# the planted leak, accepted\nleak:make_buffer\n' >"$T/ctest.supp"
memcheck --overwrite "MemoryCheckSuppressionFile=$T/ctest.supp"
why=""
grep -q 'Defects:' "$T/out" && why="a defect is still counted"
[ -z "$(sed -n '/^Memory checking results:/,$p' "$T/out" | sed 1d)" ] || why="$why; results listed"
[ "$rc" = 0 ] || why="$why; status $rc"
report "MEMORYCHECK_SUPPRESSIONS_FILE (mpcheck's kind:function format) suppresses it: no defect" "$why"

"$WRAP" --log-file="$T/x.log" --bogus "$B/tidy" >"$T/stdout" 2>"$T/err"
rc=$?
expect "an unknown option: one line, status 125, the test not run" 125 \
	"mpcheck-ctest: unknown option --bogus"
[ -s "$T/stdout" ] && report "the test was not run" "it printed $(cat "$T/stdout")"

echo "1..$n"
[ "$failed" = 0 ]
