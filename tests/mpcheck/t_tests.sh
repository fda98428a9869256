#!/usr/bin/env bash
# t_tests.sh - TAP tests for findings attributed to test names (issue 28,
# part 1), with the real library: a leak planted in one test of a small
# suite is named with that test, and only that one, in the text summary,
# --json and --sarif, for each way a runner names its tests: automake's
# test-driver (`--test-name NAME`, a parent or grandparent of the test's
# process), MPWRAP_TEST_NAME, pytest's PYTEST_CURRENT_TEST, prove (the
# script's path) and meson test (its list, matched by command).  CTest is
# in tests/ctest/t_ctest.sh.
# Needs `make all`.  Usage: tests/mpcheck/t_tests.sh
set -u

here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
MPCHECK=$ROOT/scripts/mpcheck
T=$(mktemp -d "${TMPDIR:-/tmp}/t_tests.XXXXXX")
trap 'rm -rf "$T"' EXIT
unset LD_PRELOAD MPWRAP_OPTIONS MPWRAP_TEST_NAME PYTEST_CURRENT_TEST
export LC_ALL=C MPWRAP_LIB=$ROOT/libmpwrap.so
cd "$T" || exit 1
if [ ! -f "$MPWRAP_LIB" ]; then
	echo "1..0 # SKIP libmpwrap.so not built (make all)"
	exit 0
fi
cat >leaky.c <<'C'
#include <stdlib.h>
void *volatile sink;
__attribute__((noinline)) static void planted_leak(void) { sink = malloc(77); sink = 0; }
int main(void) { planted_leak(); return 0; }
C
cat >clean.c <<'C'
#include <stdlib.h>
int main(void) { free(malloc(10)); return 0; }
C
cc -g -O0 -o leaky leaky.c && cc -g -O0 -o clean clean.c || exit 1
# automake's test-driver, as far as the library sees it: a shell script
# whose arguments hold --test-name NAME and that runs the test after "--"
mkdir build-aux
cat >build-aux/test-driver <<'SH'
#!/bin/sh
while test $# -gt 0; do case $1 in --) shift; break;; *) shift;; esac; done
"$@" >/dev/null 2>&1
SH
chmod +x build-aux/test-driver
# a test that is a script running the program: the driver is its grandparent
printf '#!/bin/sh\n./leaky\n' >leaky_script.sh
chmod +x leaky_script.sh

. "$here/tap.sh"

run() {
	timeout 120 "$MPCHECK" --json "$T/out.json" --sarif "$T/out.sarif" \
		"$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# json_get EXPR: a Python expression over j (the --json) and s (the SARIF's
# first run's results)
json_get() {
	python3 - "$T" "$1" <<'PY'
import json, sys
t, expr = sys.argv[1], sys.argv[2]
j = json.load(open(f"{t}/out.json"))
s = json.load(open(f"{t}/out.sarif"))["runs"][0]["results"]
print(eval(expr))
PY
}

# is NAME EXPR WANT: json_get EXPR prints WANT
is() {
	local got
	got=$(json_get "$2" 2>&1)
	if [ "$got" = "$3" ]; then report "$1" ""
	else report "$1" "got '$got', expected '$3'"; fi
}

# no NAME TEXT: the last run's stderr lacks TEXT
no() {
	if grep -qF -- "$2" "$T/err"; then report "$1" "stderr has: $2"
	else report "$1" ""; fi
}

# ------------------------------------------------------------ automake
cat >suite.sh <<'SH'
#!/bin/sh
for t in clean_one leaky_test clean_two; do
	prog=./clean; [ $t = leaky_test ] && prog=./leaky
	./build-aux/test-driver --test-name $t --log-file $t.log --trs-file $t.trs -- $prog
done
./build-aux/test-driver --test-name script_test --log-file s.log --trs-file s.trs -- ./leaky_script.sh
./clean
SH
chmod +x suite.sh
run ./suite.sh
expect "automake: the planted leaks fail the gate" 23 \
	"findings in 2 of 4 tests: leaky_test, script_test" \
	"[test leaky_test]: 1 definite leak (77 bytes)" \
	"[test script_test]: 1 definite leak (77 bytes)" \
	"[tests leaky_test, script_test]: definite leak of 154 bytes"
no "automake: a clean test is not listed" "clean_one"
is "automake: --json finding's tests" 'j["findings"][0]["tests"]' \
	"['leaky_test', 'script_test']"
is "automake: --json summary counts tests" \
	'(j["summary"]["tests"], j["summary"]["tests_with_findings"], j["summary"]["failing_tests"])' \
	"(4, 2, ['leaky_test', 'script_test'])"
is "automake: each process report says its test and where from" \
	'sorted((p["test"] or {}).get("name", "-") + ":" + (p["test"] or {}).get("from", "-") for p in j["processes"] if p["command"].startswith("./"))' \
	"['-:-', 'clean_one:test-driver', 'clean_two:test-driver', 'leaky_test:test-driver', 'script_test:test-driver']"
is "automake: SARIF result's properties.tests" 's[0]["properties"]["tests"]' \
	"['leaky_test', 'script_test']"
is "automake: SARIF message names the tests" \
	'"in tests leaky_test, script_test" in s[0]["message"]["text"]' True

# ----------------------------------------------- MPWRAP_TEST_NAME, pytest
cat >suite2.sh <<'SH'
#!/bin/sh
MPWRAP_TEST_NAME="env clean" ./clean
MPWRAP_TEST_NAME="env leaky" ./leaky
PYTEST_CURRENT_TEST="tests/test_c.py::test_leaks[x] (call)" ./leaky
PYTEST_CURRENT_TEST="tests/test_c.py::test_fine (call)" ./clean
# MPWRAP_TEST_NAME wins over pytest's
MPWRAP_TEST_NAME=both PYTEST_CURRENT_TEST="tests/t.py::x (call)" ./clean
SH
chmod +x suite2.sh
run ./suite2.sh
expect "env: the planted leaks fail the gate" 23 \
	"findings in 2 of 5 tests: env leaky, tests/test_c.py::test_leaks[x]"
no "env: pytest's phase is left out" "(call)"
no "env: a clean test is not listed" "test_fine"
is "env: --json finding's tests" 'sorted(j["findings"][0]["tests"])' \
	"['env leaky', 'tests/test_c.py::test_leaks[x]']"
is "env: where each name came from" \
	'sorted(p["test"]["name"] + ":" + p["test"]["from"] for p in j["processes"] if p["test"])' \
	"['both:MPWRAP_TEST_NAME', 'env clean:MPWRAP_TEST_NAME', 'env leaky:MPWRAP_TEST_NAME', 'tests/test_c.py::test_fine:PYTEST_CURRENT_TEST', 'tests/test_c.py::test_leaks[x]:PYTEST_CURRENT_TEST']"

# ---------------------------------------------------------------- prove
# each test script is prove's child; its path names the test, and its
# children (and theirs) belong to it
mkdir t
printf '%s\n' 'print "1..1\nok 1\n"; system("./clean");' >t/a_ok.t
printf '%s\n' 'print "1..1\n"; system("sh", "-c", "./leaky; true"); print "ok 1\n";' >t/b_leak.t
printf '#!/bin/sh\necho 1..1\n./clean\necho ok 1\n' >t/c_sh.t
chmod +x t/c_sh.t
run prove t/
expect "prove: the planted leak fails the gate" 23 \
	"findings in 1 of 3 tests: t/b_leak.t" "[test t/b_leak.t]: 1 definite leak (77 bytes)"
no "prove: a clean test is not listed" "[test t/a_ok.t"
no "prove: no process lost its report (perl's fork child exec'ing /bin/sh drops its start marker)" \
	"no report"
is "prove: --json finding's tests (perl's own leaks are suppressed)" \
	'[f["tests"] for f in j["findings"] if not f["suppressed"]]' "[['t/b_leak.t']]"
is "prove: the tests of the processes (a shell script's child is its test's), found from prove" \
	'sorted(p["test"]["name"] + ":" + p["test"]["from"] for p in j["processes"] if p["command"].startswith("./"))' \
	"['t/a_ok.t:prove', 't/b_leak.t:prove', 't/c_sh.t:prove']"
is "prove: the leaky process's ancestors, nearest first, up to prove" \
	'[a["argv"][-1] for p in j["processes"] if p["command"] == "./leaky" for a in p["ancestors"]]' \
	"['./leaky; true', 't/b_leak.t', 't/']"
is "prove: SARIF names the test" \
	'[(r["properties"]["tests"], "in test t/b_leak.t" in r["message"]["text"]) for r in s if "tests" in r["properties"]]' \
	"[(['t/b_leak.t'], True)]"

# ---------------------------------------------------------- meson test
# meson runs each test as its child; mpcheck matches the command with
# `meson introspect --tests` (here the same program in two tests, told
# apart by their arguments)
if command -v meson >/dev/null && command -v ninja >/dev/null; then
	mkdir m
	cp leaky.c clean.c m/
	cat >m/meson.build <<'M'
project('names', 'c')
tidy = executable('tidy', 'clean.c')
leaky = executable('leaky', 'leaky.c')
test('clean one', tidy)
test('leaky test', leaky)
test('clean two', tidy, args: ['x'])
M
	(cd m && meson setup build && ninja -C build) >"$T/err" 2>&1 ||
		report "meson: the project builds" "meson setup or ninja failed"
	run meson test -C m/build
	expect "meson: the planted leak fails the gate" 23 \
		"findings in 1 of 3 tests: leaky test" "[test leaky test]: 1 definite leak (77 bytes)"
	is "meson: each test process named from meson's list" \
		'sorted(p["test"]["name"] + ":" + p["test"]["from"] for p in j["processes"] if p["test"])' \
		"['clean one:meson', 'clean two:meson', 'leaky test:meson']"
	is "meson: --json and SARIF name the test" \
		'([f["tests"] for f in j["findings"] if not f["suppressed"]], [r["properties"].get("tests") for r in s])' \
		"([['leaky test']], [['leaky test']])"
else
	skip "meson: meson or ninja is not installed (TEST_DEPS installs meson as root)"
fi

# ------------------------------------------------------------- no tests
run ./leaky
expect "no test names: the gate as before" 23 "definite leak of 77 bytes"
no "no test names: no tests line" "findings in"
is "no test names: the finding has no tests" \
	'(j["findings"][0]["tests"], j["summary"]["tests"], "tests" in s[0]["properties"])' \
	"([], 0, False)"

echo "1..$n"
[ "$failed" = 0 ]
