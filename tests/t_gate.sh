#!/usr/bin/env bash
# t_gate.sh - the CI leak gate end to end, with the real library: a small C
# project (tests/gate) whose test suite has four executables, two of which
# leak, run as `mpcheck -- make check`.  Exactly those two are reported, with
# their allocating functions and lines; the status is 23; a suppression file
# makes it 0; a baseline makes it 0 until a third leak is added.
set -u
# The runs here choose what is preloaded: under an outer gate (mpcheck --
# make test) the deliberate leaks of the gate project must not count there.
unset LD_PRELOAD MPWRAP_OPTIONS
ROOT=${MPWRAP_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
export MPWRAP_LIB=${MPWRAP_LIB:-$ROOT/libmpwrap.so}
MPCHECK=$ROOT/scripts/mpcheck
T=$(mktemp -d /tmp/t_gate.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift
	for line in "$@"; do echo "#   $line"; done; }
check() { # name, condition command...
	local name=$1; shift
	if "$@"; then ok "$name"; else notok "$name" "failed: $*"; fi
}
line_of() { grep -n "$2" "$T/proj/$1" | cut -d: -f1; }

cp -r "$ROOT/tests/gate" "$T/proj"
make -s -C "$T/proj" all >/dev/null 2>&1 || { echo "not ok 1 - build the gate project"; exit 1; }
cd "$T/proj" || exit 1

# 1. the gate fails on exactly the two leaking tests
"$MPCHECK" --quiet --json "$T/r1.json" --sarif "$T/r1.sarif" -- make -s check \
	>"$T/out1" 2>"$T/err1"
rc=$?
check "mpcheck -- make check: exit status 23 with two leaking tests" [ "$rc" = 23 ]
check "the program's output is untouched" grep -q "all tests passed" "$T/out1"
python3 - "$T/r1.json" "$(line_of test_cache.c LEAK_CACHE)" \
	"$(line_of test_format.c LEAK_FORMAT)" >"$T/py1" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
new = [f for f in doc["findings"] if not f["suppressed"] and not f["baseline"]]
got = sorted((f["examples"][0]["command"].split()[0].split("/")[-1], f["kind"], f["bytes"],
              f["stack"][0]["function"], f["stack"][0]["file"].split("/")[-1],
              f["stack"][0]["line"]) for f in new)
want = sorted([("./test_cache".split("/")[-1], "definite", 16, "cache_put",
                "test_cache.c", int(sys.argv[2])),
               ("test_format", "definite", 32, "format_number",
                "test_format.c", int(sys.argv[3]))])
print("got ", got)
print("want", want)
procs = {p["command"].split()[0].split("/")[-1] for p in doc["processes"]}
print("processes", sorted(procs))
assert got == want, "findings differ"
assert {"test_parse", "test_list", "test_cache", "test_format"} <= procs
PY
if [ $? = 0 ]; then ok "exactly test_cache and test_format are reported, with function, file and line"
else notok "exactly test_cache and test_format are reported, with function, file and line" "$(cat "$T/py1")"; fi
python3 - "$T/r1.sarif" >"$T/py2" 2>&1 <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["version"] == "2.1.0"
res = s["runs"][0]["results"]
assert len(res) == 2, len(res)
files = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].split("/")[-1] for r in res)
assert files == ["test_cache.c", "test_format.c"], files
PY
if [ $? = 0 ]; then ok "SARIF: two results located in test_cache.c and test_format.c"
else notok "SARIF: two results located in test_cache.c and test_format.c" "$(cat "$T/py2")"; fi
check "summary line names the gate failure" grep -q "gate: FAIL" "$T/err1"
if python3 "$ROOT/tests/sarif/check_sarif.py" "$T/r1.sarif" >"$T/sarif.check" 2>&1
then ok "the SARIF log validates against SARIF 2.1.0; every result has a location"
else notok "the SARIF log validates against SARIF 2.1.0; every result has a location" \
	"$(cat "$T/sarif.check")"; fi

# 2. suppressions make it pass
printf '# known leaks\nleak:cache_put\nleak:format_number\n' >"$T/supp"
"$MPCHECK" --quiet --suppressions "$T/supp" --json "$T/r2.json" -- make -s check \
	>/dev/null 2>&1
check "with a suppression file: exit status 0" [ $? = 0 ]
python3 - "$T/r2.json" "$T/supp" >"$T/py5" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
by = sorted(f["suppressed_by"] for f in doc["findings"]
            if f["stack"][0].get("function") in ("cache_put", "format_number"))
assert by == [sys.argv[2] + ":2", sys.argv[2] + ":3"], by
PY
if [ $? = 0 ]; then ok "both leaks are suppressed by their lines of the file"
else notok "both leaks are suppressed by their lines of the file" "$(cat "$T/py5")"; fi

# 3. a baseline: 0 now, 23 once a third leak appears
"$MPCHECK" --quiet --baseline-out "$T/base" -- make -s check >/dev/null 2>&1
check "--baseline-out records the run (status is the program's own: 0)" [ $? = 0 ]
check "the baseline names both leaking functions" \
	bash -c "grep -q '^leak:cache_put' '$T/base' && grep -q '^leak:format_number' '$T/base'"
"$MPCHECK" --quiet --baseline "$T/base" -- make -s check >/dev/null 2>&1
check "with the baseline: exit status 0" [ $? = 0 ]
cp "$ROOT/tests/gate/leak3.c" test_third.c
sed -i 's/^TESTS = .*/& test_third/' Makefile
make -s all >/dev/null 2>&1
"$MPCHECK" --quiet --baseline "$T/base" --json "$T/r3.json" -- make -s check \
	>/dev/null 2>"$T/err3"
check "a third leak fails the gate despite the baseline: exit status 23" [ $? = 23 ]
python3 - "$T/r3.json" >"$T/py3" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
new = [f for f in doc["findings"] if not f["suppressed"] and not f["baseline"]]
assert [f["stack"][0]["function"] for f in new] == ["remember"], new
PY
if [ $? = 0 ]; then ok "only the new leak (remember) is new"
else notok "only the new leak (remember) is new" "$(cat "$T/py3")"; fi

# 4. make's own leaks are not the project's: reported, but never gating
echo "leak:remember" >>"$T/supp"
"$MPCHECK" --quiet --system-leaks --suppressions "$T/supp" --json "$T/r4.json" \
	-- make -s check >/dev/null 2>&1
rc=$?
python3 - "$T/r4.json" "$rc" >"$T/py4" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
new = [f for f in doc["findings"] if not f["suppressed"]]
mods = {f["stack"][0].get("module") or "" for f in new}
print(sys.argv[2], mods)
assert all(m.startswith(("/usr/bin/", "/bin/")) for m in mods), mods
assert (sys.argv[2] == "23") == bool(new)
PY
if [ $? = 0 ]; then ok "--system-leaks gates on system programs' own leaks only when asked"
else notok "--system-leaks gates on system programs' own leaks only when asked" "$(cat "$T/py4")"; fi

# 5. a capped text report: 12 leak sites, 5 groups listed, the rest counted
# (a stale stack slot may keep one block reachable: count from the log)
cat >"$T/many.c" <<'C'
#include <stdlib.h>
void *volatile sink;
#define F(n) static void __attribute__((noinline)) f##n(void) { sink = malloc(n + 1); }
F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11)
int main(void)
{
	void (*fs[])(void) = { f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11 };
	for (int i = 0; i < 12; i++)
		fs[i]();
	sink = 0;
	return 0;
}
C
cc -g -O0 -o "$T/many" "$T/many.c"
LD_PRELOAD=$MPWRAP_LIB MPWRAP_OPTIONS=max_leak_groups=5:log_path=$T/many.log "$T/many"
check "max_leak_groups=5: 5 groups listed, the others counted in one line" \
	bash -c "[ \$(grep -c 'is definitely lost, allocated from' '$T/many.log') = 5 ] &&
		grep -q '\.\.\. and [0-9]* more leak groups (' '$T/many.log'"

# 6. --leak-kinds all: the C library's own buffers and locale data are not
# the program's leaks (default suppressions), a real leak still is
cat >"$T/hello.c" <<'C'
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
void *volatile sink;
int main(int argc, char **argv)
{
	char buf[64];
	time_t t = 0;
	setlocale(LC_ALL, "");
	strftime(buf, sizeof buf, "%c", localtime(&t));
	printf("hello %s\n", buf);
	if (argc > 1)
		sink = malloc(24);
	(void)argv;
	return 0;
}
C
cc -g -O0 -o "$T/hello" "$T/hello.c"
LC_ALL=C.UTF-8 "$MPCHECK" --quiet --leak-kinds all "$T/hello" >/dev/null 2>"$T/hello.err"
check "--leak-kinds all: printf, setlocale and localtime pass the gate" [ $? = 0 ]
LC_ALL=C.UTF-8 "$MPCHECK" --quiet --leak-kinds all "$T/hello" leak >/dev/null 2>"$T/hello.err"
check "--leak-kinds all: one real reachable leak of 24 bytes still fails it" \
	grep -q "0 errors, 1 leaks (24 bytes)" "$T/hello.err"
LC_ALL=C.UTF-8 "$MPCHECK" --quiet --leak-kinds all --no-default-suppressions "$T/hello" \
	>/dev/null 2>"$T/hello.err"
check "--no-default-suppressions: the C library's own allocations gate" [ $? = 23 ]

# 7. make install / uninstall: the installed mpcheck finds its library
make -s -C "$ROOT" install PREFIX="$T/inst" >/dev/null 2>&1
check "make install puts mpcheck, the libraries, header, man page, pkg-config in place" \
	bash -c "cd '$T/inst' && test -x bin/mpcheck && test -x bin/mpcheck-ctest \
	&& test -f lib/mpwrap/libmpwrap.so \
	&& test -f lib/libmempool.a && test -f include/mempool.h \
	&& test -f include/mpwrap/scope.h && test -f include/mpwrap/gtest_listener.h \
	&& test -f share/man/man1/mpcheck.1 && test -f lib/pkgconfig/mpwrap.pc"
env -u MPWRAP_LIB "$T/inst/bin/mpcheck" --quiet ./test_format >/dev/null 2>&1
check "the installed mpcheck runs the gate (status 23 on test_format)" [ $? = 23 ]
env -u MPWRAP_LIB "$T/inst/bin/mpcheck-ctest" --error-exitcode=23 --log-file="$T/ctest.log" \
	./test_format >/dev/null 2>&1
check "the installed mpcheck-ctest finds mpcheck beside it (status 23, the leak's memcheck record in its log)" \
	bash -c "[ $? = 23 ] && grep -q '^==[0-9]*== 32 bytes in 1 blocks are definitely lost' '$T/ctest.log'"
# the command line pkg-config prints, used as printed, links and runs
export PKG_CONFIG_PATH=$T/inst/lib/pkgconfig
# shellcheck disable=SC2046  # pkg-config's words are separate arguments
cc -o "$T/pcdemo" "$ROOT/examples/demo.c" $(pkg-config --cflags --libs mpwrap) \
	>"$T/pc.log" 2>&1
check "cc demo.c \$(pkg-config --cflags --libs mpwrap) links the static library" \
	[ -x "$T/pcdemo" ]
"$T/pcdemo" >/dev/null 2>"$T/pcdemo.err"
check "the program linked through pkg-config runs and reports its overflow" \
	grep -q 'ERROR: heap-buffer-overflow' "$T/pcdemo.err"
check "pkg-config --variable=preloadlib names the installed libmpwrap.so" \
	[ "$(pkg-config --variable=preloadlib mpwrap)" = "$T/inst/lib/mpwrap/libmpwrap.so" ]
make -s -C "$ROOT" uninstall PREFIX="$T/inst" >/dev/null 2>&1
check "make uninstall removes every installed file" \
	[ -z "$(find "$T/inst" -type f 2>/dev/null)" ]

echo "1..$n"
[ "$fails" = 0 ]
