#!/usr/bin/env bash
# t_scopes.sh - leak checks per test inside one process: mp_scope_begin /
# mp_scope_end (include/mempool.h, weak in include/mpwrap/scope.h) and the
# runner glue (googletest listener, cmocka setup/teardown, Criterion's
# MPWRAP_TEST, MPWRAP_LEAK_TEST).
#
# Each example in examples/ plants one leak in one test: exactly that test
# fails, by its name, with the leak's allocating function in the report, and
# no other; the exit report does not list the leak again but counts it
# ("in scopes"), its JSON lists it with the scope as "test", and mpcheck
# attributes it to that test.  Options scope_warmups and scope_budget, the
# misuse cases, another thread's leak inside a scope, libmempool.a (no scan)
# and a program built without the library (weak: nothing checked).
#
# Environment (exported by `make test`; defaulted when run by hand):
#   MPWRAP_ROOT, MPWRAP_LIB, MPWRAP_TFLAGS as in t_preload.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_scopes
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

E=$MPWRAP_ROOT/examples
# shellcheck disable=SC2086
compile plain "$T/cc.plain.x" $CC $MPWRAP_TFLAGS -o "$B/plain" "$E/scopes_plain.c"

# opts.c: the options and the misuse cases, one scenario per argument
cat >"$T/opts.c" <<'EOF'
#include <mempool.h>
#include <mpwrap/scope.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static void *lose(size_t n) { char *p = malloc(n); memset(p, 1, n); return NULL; } /* LOSE */
static void *lose_thread(void *a) { (void)a; lose(48); return NULL; }
int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "warmups")) { /* scope_warmups=1: the first run is silent */
		for (int i = 0; i < 3; i++) {
			mpwrap_scope_begin("cached");
			lose(40);
			printf("run %d: %ld\n", i, mpwrap_scope_end());
		}
	} else if (!strcmp(what, "budget")) { /* scope_budget=64 */
		mpwrap_scope_begin("small"); lose(33);
		printf("small: %ld\n", mpwrap_scope_end());
		mpwrap_scope_begin("big"); lose(100);
		printf("big: %ld\n", mpwrap_scope_end());
	} else if (!strcmp(what, "misuse")) {
		printf("end0: %ld\n", mp_scope_end());
		printf("begin1: %d\n", mp_scope_begin("outer"));
		printf("begin2: %d\n", mp_scope_begin("inner"));
		printf("end1: %ld\n", mp_scope_end());
	} else if (!strcmp(what, "fork")) { /* a child's report: not the parent's scopes */
		mpwrap_scope_begin("parent_scope");
		lose(24);
		printf("parent: %ld\n", mpwrap_scope_end());
		fflush(stdout);
		pid_t c = fork();
		if (c == 0)
			exit(0);
		waitpid(c, NULL, 0);
	} else if (!strcmp(what, "held")) { /* live in the frame spanning the scope */
		mpwrap_scope_begin("held");
		char *p = malloc(40);
		memset(p, 2, 40);
		printf("held: %ld\n", mpwrap_scope_end());
		free(p);
	} else if (!strcmp(what, "thread")) { /* another thread's leak counts */
		pthread_t t;
		mpwrap_scope_begin("threaded");
		pthread_create(&t, NULL, lose_thread, NULL);
		pthread_join(t, NULL);
		printf("threaded: %ld\n", mpwrap_scope_end());
	}
#ifdef WITH_POOL
	if (!strcmp(what, "pool")) { /* libmempool.a: every live block */
		mp_init();
		void *keep = mp_alloc(10);
		mp_scope_begin("pool_scope");
		void *a = mp_alloc(20), *b = mp_alloc(30);
		mp_free(a);
		long n = mp_scope_end();
		char buf[256];
		mp_scope_report(buf, sizeof buf);
		printf("pool: %ld %s\n", n, strstr(buf, "'pool_scope'") ? "named" : "unnamed");
		mp_free(b);
		mp_free(keep);
	}
#endif
	return 0;
}
EOF
# shellcheck disable=SC2086
compile opts "$T/cc.opts.x" $CC $MPWRAP_TFLAGS -o "$B/opts" "$T/opts.c"
# shellcheck disable=SC2086
compile pool "$T/cc.pool.x" $CC $MPWRAP_TFLAGS -DWITH_POOL -o "$B/pool" "$T/opts.c" libmempool.a -lunwind -ldw -lelf -ldl
have_gtest=0
have_cmocka=0
if printf '#include <gtest/gtest.h>\nint main() { return 0; }\n' |
	$CXX -x c++ - -lgtest -pthread -o "$T/gt_probe" 2>/dev/null; then
	have_gtest=1
	# shellcheck disable=SC2086
	compile gtest "$T/cc.gtest.x" $CXX -g -O0 -fno-omit-frame-pointer -Wall -Wextra -Werror -Iinclude \
		-o "$B/gtest" "$E/gtest_scopes.cc" -lgtest -pthread
fi
have_criterion=0
if [ -e /usr/include/criterion/criterion.h ]; then
	have_criterion=1
	# shellcheck disable=SC2086
	compile criterion "$T/cc.criterion.x" $CC $MPWRAP_TFLAGS -o "$B/criterion" "$E/criterion_scopes.c" -lcriterion
fi
if [ -e /usr/include/cmocka.h ]; then
	have_cmocka=1
	# shellcheck disable=SC2086
	compile cmocka "$T/cc.cmocka.x" $CC $MPWRAP_TFLAGS -o "$B/cmocka" "$E/cmocka_scopes.c" -lcmocka
fi
wait
built "the examples and the test program compile" x plain opts pool

# exit_json: the exit report's JSON in $RD (not a check's r.PID.checkN.json)
exit_json() { ls "$RD"/r.*.json | grep -v '\.check[0-9]*\.json$'; }

# json_leaks FILE: "kind bytes test function" of each leak in the exit JSON
json_leaks() {
	python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for l in d["leaks"]:
    if l["kind"] == "reachable":
        continue
    fn = next((f.get("function") or "?" for f in l["stack"]), "?")
    print(l["kind"], l["bytes"], l.get("test", "-"), fn)
print("in_scopes", d["summary"]["in_scopes"]["bytes"], d["summary"]["in_scopes"]["blocks"])
PY
}

# ---- MPWRAP_LEAK_TEST in a plain test main ---------------------------
if have plain "plain test main"; then
	prun plain "$B/plain"
	got=$(grep -E '^(not )?ok' "$RD/out" | tr '\n' '|')
	want="ok 1 - test_push_pop|not ok 2 - test_leaks_on_purpose # 1 block leaked|ok 3 - test_keeps_node|"
	[ "$got" = "$want" ] && [ "$rc" = 1 ] && pass "plain: only test_leaks_on_purpose fails" ||
		fail "plain: only test_leaks_on_purpose fails" "got: $got (exit $rc)"
	log=$(cat "$RD"/r.*.log)
	line=$(line_of "$E/scopes_plain.c" "calloc(1, sizeof *n)")
	if grep -q "mpwrap: leaks in scope 'test_leaks_on_purpose' (leak check #1, mp_scope_end)" <<<"$log" &&
		grep -q "32 bytes in 1 block is definitely lost" <<<"$log" &&
		grep -q "#0 .* in push .*scopes_plain.c:$line " <<<"$log" &&
		[ "$(grep -c "leaks in scope" <<<"$log")" = 1 ]; then
		pass "plain: one scope report, named, with push at scopes_plain.c:$line"
	else
		fail "plain: one scope report, named, with push at scopes_plain.c:$line" "$(head -20 <<<"$log")"
	fi
	if grep -q "in scopes        32 bytes in 1 block (lost in 1 scope" <<<"$log" &&
		grep -q "definitely lost  0 bytes in 0 blocks" <<<"$log"; then
		pass "plain: the exit report counts the scope's leak, does not list it again"
	else
		fail "plain: the exit report counts the scope's leak, does not list it again" "$(tail -8 <<<"$log")"
	fi
	got=$(json_leaks "$(exit_json)" | tr '\n' '|')
	[ "$got" = "definite 32 test_leaks_on_purpose push|in_scopes 32 1|" ] &&
		pass "plain: exit JSON lists the leak with test=test_leaks_on_purpose" ||
		fail "plain: exit JSON lists the leak with test=test_leaks_on_purpose" "$got"
	# the program built without the library: the weak calls do nothing
	(cd "$T" && "$B/plain" >"$T/plain.out" 2>&1)
	[ $? = 0 ] && [ "$(grep -c '^ok' "$T/plain.out")" = 3 ] &&
		pass "plain: without the library every test passes (weak symbols)" ||
		fail "plain: without the library every test passes (weak symbols)" "$(cat "$T/plain.out")"
	# mpcheck: the finding names the test
	mkdir -p "$T/mc"
	(cd "$T/mc" && MPWRAP_LIB="$MPWRAP_LIB" python3 "$MPWRAP_ROOT/scripts/mpcheck" --json "$T/mc/out.json" --sarif "$T/mc/out.sarif" \
		-- "$B/plain" >"$T/mc/stdout" 2>"$T/mc/stderr")
	mrc=$?
	got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = json.load(open(sys.argv[2]))["runs"][0]["results"]
print(";".join("%s:%s" % (f["kind"], ",".join(f.get("tests", []))) for f in d["findings"]),
      [x["properties"].get("tests") for x in r], r[0]["message"]["text"].endswith("in test test_leaks_on_purpose"))' \
		"$T/mc/out.json" "$T/mc/out.sarif" 2>&1)
	if [ "$mrc" != 0 ] && [ "$got" = "definite:test_leaks_on_purpose [['test_leaks_on_purpose']] True" ] &&
		grep -q "findings in 1 of 1 test: test_leaks_on_purpose" "$T/mc/stderr"; then
		pass "mpcheck: the finding is attributed to test_leaks_on_purpose (text, JSON, SARIF)"
	else
		fail "mpcheck: the finding is attributed to test_leaks_on_purpose (text, JSON, SARIF)" "exit $mrc; $got" "$(tail -5 "$T/mc/stderr")"
	fi
fi

# ---- options and misuse --------------------------------------------
if have opts "options"; then
	OPTS=scope_warmups=1 prun warm "$B/opts" warmups
	got=$(tr '\n' '|' <"$RD/out")
	nrep=$(cat "$RD"/r.*.log | grep -c "leaks in scope 'cached'")
	[ "$got" = "run 0: 0|run 1: 1|run 2: 1|" ] && [ "$nrep" = 2 ] &&
		pass "scope_warmups=1: the first run of a name checks nothing" ||
		fail "scope_warmups=1: the first run of a name checks nothing" "$got reports=$nrep"
	OPTS=scope_budget=64 prun budget "$B/opts" budget
	got=$(tr '\n' '|' <"$RD/out")
	jl=$(json_leaks "$(exit_json)" | tr '\n' '|')
	[ "$got" = "small: 0|big: 1|" ] && [ "$jl" = "definite 33 - lose|definite 100 big lose|in_scopes 100 1|" ] &&
		pass "scope_budget=64: 33 bytes not counted (left to the exit report), 100 are" ||
		fail "scope_budget=64: 33 bytes not counted (left to the exit report), 100 are" "$got" "$jl"
	prun misuse "$B/opts" misuse
	got=$(tr '\n' '|' <"$RD/out")
	log=$(cat "$RD"/r.*.log)
	[ "$got" = "end0: -1|begin1: 0|begin2: -1|end1: 0|" ] &&
		grep -q "mp_scope_end without mp_scope_begin: ignored" <<<"$log" &&
		grep -q "mp_scope_begin: a scope is open already (scopes do not nest): ignored" <<<"$log" &&
		pass "misuse: end without begin and nested begin return -1, one warning each" ||
		fail "misuse: end without begin and nested begin return -1, one warning each" "$got" "$log"
	prun fork "$B/opts" fork
	got=""
	for j in "$RD"/r.*.json; do
		case $j in *.check*) continue ;; esac
		got="$got$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(len([l for l in d["leaks"] if l.get("test")]), d["summary"]["in_scopes"]["blocks"])' "$j") "
	done
	# the parent's exit report lists its scope's leak; the child's none
	# "scope leaks listed, in_scopes blocks" per exit report, sorted
	got=$(printf '%s\n' $got | paste -d' ' - - | sort | tr '\n' '|')
	[ "$(cat "$RD/out")" = "parent: 1" ] && [ "$got" = "0 0|1 1|" ] &&
		pass "fork: the child's exit report does not repeat the parent's scope leaks" ||
		fail "fork: the child's exit report does not repeat the parent's scope leaks" "$(cat "$RD/out")" "$got"
	prun held "$B/opts" held
	[ "$(cat "$RD/out")" = "held: 0" ] &&
		pass "a block the frame that began and ends the scope still holds is no leak" ||
		fail "a block the frame that began and ends the scope still holds is no leak" "$(cat "$RD/out")"
	prun thread "$B/opts" thread
	[ "$(cat "$RD/out")" = "threaded: 1" ] &&
		grep -q "#0 .* in lose " "$RD"/r.*.log &&
		pass "a block another thread lost inside the scope is the scope's" ||
		fail "a block another thread lost inside the scope is the scope's" "$(cat "$RD/out")"
fi
if have pool "libmempool.a"; then
	(cd "$T" && MPWRAP_OPTIONS=log_path=/dev/null "$B/pool" pool >"$T/pool.out" 2>&1)
	[ "$(cat "$T/pool.out")" = "pool: 1 named" ] &&
		pass "libmempool.a: the scope's live block counts (no scan), report named" ||
		fail "libmempool.a: the scope's live block counts (no scan), report named" "$(cat "$T/pool.out")"
fi

# ---- googletest ------------------------------------------------------
if [ "$have_gtest" = 1 ] && have gtest "googletest listener"; then
	prun gtest "$B/gtest"
	failed_tests=$(grep -E '^\[  FAILED  \] [A-Za-z]+\.[A-Za-z]+ \(' "$RD/out" | awk '{print $4}' | tr '\n' ' ')
	oks=$(grep -c '^\[       OK \]' "$RD/out")
	if [ "$rc" = 1 ] && [ "$failed_tests" = "Scopes.LeaksOnPurpose " ] && [ "$oks" = 2 ] &&
		grep -q "mpwrap: 1 block leaked by this test:" "$RD/out" &&
		grep -q "in make_name(char const\*) .*gtest_scopes.cc" "$RD/out"; then
		pass "googletest: only Scopes.LeaksOnPurpose fails, make_name in its failure message"
	else
		fail "googletest: only Scopes.LeaksOnPurpose fails, make_name in its failure message" \
			"exit $rc, failed: $failed_tests, ok: $oks" "$(head -30 "$RD/out")"
	fi
else
	echo "ok $((n + 1)) - # SKIP googletest: libgtest-dev not installed"; n=$((n + 1))
fi

# ---- cmocka ----------------------------------------------------------
if [ "$have_cmocka" = 1 ] && have cmocka "cmocka setup/teardown"; then
	# cmocka's own output format, whatever the environment asks (TAP...)
	export CMOCKA_MESSAGE_OUTPUT=STDOUT
	prun cmocka "$B/cmocka"
	all=$(cat "$RD/out" "$RD/err")
	bad=$(grep -E '^\[  (ERROR|FAILED)   ?\] ' <<<"$all" | awk '{print $NF}' | sort -u | tr '\n' ' ')
	oks=$(grep -c '^\[       OK \]' <<<"$all")
	if [ "$rc" = 1 ] && [ "$bad" = "test_leaks_on_purpose " ] && [ "$oks" = 2 ] &&
		grep -q "mpwrap: 1 block leaked by test_leaks_on_purpose" <<<"$all" &&
		grep -q "leaks in scope 'test_leaks_on_purpose'" "$RD"/r.*.log; then
		pass "cmocka: only test_leaks_on_purpose fails, by name"
	else
		fail "cmocka: only test_leaks_on_purpose fails, by name" "exit $rc, failed: $bad, ok: $oks" "$all"
	fi
else
	echo "ok $((n + 1)) - # SKIP cmocka: libcmocka-dev not installed"; n=$((n + 1))
fi

# ---- Criterion --------------------------------------------------------
if [ "$have_criterion" = 1 ] && have criterion "Criterion MPWRAP_TEST"; then
	# each test runs in a worker process of its own: -j1 keeps them in order
	prun criterion "$B/criterion" -j1
	all=$(cat "$RD/out" "$RD/err")
	bad=$(grep -E '^\[FAIL\] ' <<<"$all" | awk '{print $2}' | tr '\n' ' ')
	if [ "$rc" = 1 ] && [ "$bad" = "scopes::leaks_on_purpose: " ] &&
		grep -q "Tested: 4 | Passing: 3 | Failing: 1 | Crashing: 0" <<<"$all" &&
		grep -q "mpwrap: 1 block leaked by this test:" <<<"$all" &&
		grep -q "#0 .* in dup_str .*criterion_scopes.c" <<<"$all"; then
		pass "Criterion: only scopes::leaks_on_purpose fails, dup_str in its message"
	else
		fail "Criterion: only scopes::leaks_on_purpose fails, dup_str in its message" "exit $rc, failed: $bad" "$all"
	fi
else
	echo "ok $((n + 1)) - # SKIP Criterion: libcriterion-dev not installed"; n=$((n + 1))
fi

# ---- every runner's glue, gcc and clang, -O0 and -O2, many runs ----------
# No example and no glue scrubs its stack: the verdict must be exact with
# the test body's dead frames and registers as the compilers leave them
# (the scan of the scope's thread starts in the frame that spans the scope,
# src/stack/handoff.h).  Each binary runs SCOPE_RUNS times; every run must
# fail exactly the planted test, by name, and pass the others (among them a
# test whose block a global or a static keeps).
SCOPE_RUNS=${SCOPE_RUNS:-20}
# verdict RUNNER: "failed tests|passed count" of the run in $RD
verdict() {
	local all
	all=$(cat "$RD/out" "$RD/err")
	case $1 in
	gtest) echo "$(grep -E '^\[  FAILED  \] [A-Za-z]+\.[A-Za-z]+ \(' <<<"$all" | awk '{print $4}' | tr '\n' ' ')|$(grep -c '^\[       OK \]' <<<"$all")" ;;
	cmocka) echo "$(grep -E '^\[  (ERROR|FAILED)   ?\] ' <<<"$all" | awk '{print $NF}' | sort -u | tr '\n' ' ')|$(grep -c '^\[       OK \]' <<<"$all")" ;;
	criterion) echo "$(grep -E '^\[FAIL\] ' <<<"$all" | awk '{print $2}' | tr '\n' ' ')|$(grep -oE 'Passing: [0-9]+' <<<"$all" | awk '{print $2}')" ;;
	plain) echo "$(grep '^not ok' <<<"$all" | awk '{print $5}' | tr '\n' ' ')|$(grep -c '^ok' <<<"$all")" ;;
	esac
}
compilers=""
for cc in gcc:g++ clang:clang++; do
	command -v "${cc%%:*}" >/dev/null && command -v "${cc#*:}" >/dev/null && compilers="$compilers $cc"
done
mx=""
for cc in $compilers; do
	c=${cc%%:*} cxx=${cc#*:}
	for o in O0 O2; do
		fl="-g -$o -Wall -Wextra -Werror -Iinclude -pthread"
		# shellcheck disable=SC2086
		[ "$have_gtest" = 1 ] && compile "gtest.$c.$o" "$T/cc.gtest.$c.$o.x" $cxx $fl -o "$B/gtest.$c.$o" "$E/gtest_scopes.cc" -lgtest
		# shellcheck disable=SC2086
		[ "$have_cmocka" = 1 ] && compile "cmocka.$c.$o" "$T/cc.cmocka.$c.$o.x" $c $fl -o "$B/cmocka.$c.$o" "$E/cmocka_scopes.c" -lcmocka
		# shellcheck disable=SC2086
		[ "$have_criterion" = 1 ] && compile "criterion.$c.$o" "$T/cc.criterion.$c.$o.x" $c $fl -o "$B/criterion.$c.$o" "$E/criterion_scopes.c" -lcriterion
		# shellcheck disable=SC2086
		compile "plain.$c.$o" "$T/cc.plain.$c.$o.x" $c $fl -o "$B/plain.$c.$o" "$E/scopes_plain.c"
		mx="$mx $c.$o"
		wait
	done
done
export CMOCKA_MESSAGE_OUTPUT=STDOUT
for r in gtest cmocka criterion plain; do
	case $r in
	gtest) [ "$have_gtest" = 1 ] || continue; want="Scopes.LeaksOnPurpose |2" args="" ;;
	cmocka) [ "$have_cmocka" = 1 ] || continue; want="test_leaks_on_purpose |2" args="" ;;
	criterion) [ "$have_criterion" = 1 ] || continue; want="scopes::leaks_on_purpose: |3" args="-j1" ;;
	plain) want="test_leaks_on_purpose |2" args="" ;;
	esac
	for v in $mx; do
		name="$r built with ${v%.*} -${v#*.}: only the planted leak's test fails, in each of $SCOPE_RUNS runs"
		have "$r.$v" "$name" || continue
		bad=""
		for i in $(seq "$SCOPE_RUNS"); do
			# shellcheck disable=SC2086
			prun "$r.$v" "$B/$r.$v" $args
			got=$(verdict "$r")
			[ "$got" = "$want" ] || bad="$bad run $i: '$got' (exit $rc);"
		done
		[ -z "$bad" ] && pass "$name" || fail "$name" "want '$want'; $bad"
	done
done

echo "1..$n"
echo "# $TEST_NAME: $((SECONDS - start)) s"
[ "$failed" = 0 ]
