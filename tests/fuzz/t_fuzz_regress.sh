#!/usr/bin/env bash
# t_fuzz_regress.sh - quick fuzzing check run by `make test` (TAP).
#
#  1. builds the libFuzzer harnesses (make fuzz-build: build/fuzz/fuzz_options,
#     build/fuzz/fuzz_api) when clang's libFuzzer runtime is present;
#  2. replays every saved input under tests/fuzz/regress/options/ and
#     tests/fuzz/regress/api/ (one TAP line each) and the seeds;
#  3. runs each harness for FUZZ_QUICK_SECONDS (default 5) seconds from its
#     seeds into a scratch corpus (a finding is printed as hex, not saved);
#  4. the same for tests/fuzz/fuzz_suppressions.py (python3; no clang needed):
#     replay of tests/fuzz/regress/suppressions/*.supp and *.finding.json
#     (gen-suppressions round trips), then a short run.
# Without clang's fuzzer runtime, steps 1-3 print "ok ... # SKIP" lines.
# `make fuzz` is the long run (mk/fuzz.mk, docs/hardening.md).
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${MPWRAP_ROOT:=$(cd "$here/../.." && pwd)}"
quick=${FUZZ_QUICK_SECONDS:-5}
cd "$MPWRAP_ROOT" || exit 1
unset MPWRAP_OPTIONS LD_PRELOAD
T=$(mktemp -d "${TMPDIR:-/tmp}/t_fuzz.XXXXXX")
trap 'rm -rf "$T"' EXIT

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | head -n 30 | sed 's/^/#   /'
}

# ---- is clang's libFuzzer runtime there? -------------------------------
have_fuzzer=0
CLANG=${FUZZ_CC:-clang}
if command -v "$CLANG" >/dev/null 2>&1; then
	printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$T/probe.c"
	"$CLANG" -fsanitize=fuzzer "$T/probe.c" -o "$T/probe" >/dev/null 2>&1 &&
		have_fuzzer=1
fi
why_skip="clang's libFuzzer runtime not found (apt-get install libclang-rt-14-dev)"

if [ "$have_fuzzer" = 1 ]; then
	t0=$SECONDS
	if make --no-print-directory -s -C "$MPWRAP_ROOT" fuzz-build >"$T/build.log" 2>&1; then
		pass "fuzz harnesses build ($((SECONDS - t0))s)"
	else
		fail "fuzz harnesses build" "$(tail -30 "$T/build.log")"
		have_fuzzer=0
		why_skip="harness build failed"
	fi
fi

for name in options api; do
	bin=build/fuzz/fuzz_$name
	inputs=$(find "tests/fuzz/regress/$name" -type f ! -name '*.txt' ! -name '.*' 2>/dev/null | sort)
	if [ "$have_fuzzer" != 1 ]; then
		skip "fuzz_$name: regression inputs and seeds replay" "$why_skip"
		skip "fuzz_$name: ${quick}-second run" "$why_skip"
		continue
	fi
	for f in $inputs; do
		if "$bin" "$f" >"$T/out" 2>&1; then
			pass "fuzz_$name replays $f"
		else
			fail "fuzz_$name replays $f" \
				"$(grep -E 'fuzz_(api|options):|ERROR|SUMMARY|runtime error' "$T/out" | head -10)"
		fi
	done
	# shellcheck disable=SC2046
	if "$bin" $(find "tests/fuzz/seeds/$name" -type f | sort) >"$T/out" 2>&1; then
		pass "fuzz_$name replays its $(find "tests/fuzz/seeds/$name" -type f | wc -l) seeds"
	else
		fail "fuzz_$name replays its seeds" "$(tail -20 "$T/out")"
	fi
	mkdir -p "$T/corpus-$name" "$T/art-$name"
	dict=""
	[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$quick" -max_len=4096 -timeout=30 \
		-print_final_stats=1 -artifact_prefix="$T/art-$name/" $dict \
		"$T/corpus-$name" "tests/fuzz/seeds/$name" >"$T/out" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/out")
	if [ "$rc" -eq 0 ]; then
		pass "fuzz_$name: ${quick}-second run, ${execs:-?} executions, no finding"
	else
		art=$(find "$T/art-$name" -type f | head -1)
		fail "fuzz_$name: ${quick}-second run (exit $rc)" \
			"$(grep -E 'fuzz_(api|options):|ERROR|SUMMARY|runtime error' "$T/out" | head -10)
input (hex): $( [ -n "$art" ] && od -An -tx1 -v "$art" | tr -d ' \n' | head -c 2000)"
	fi
done

# ---- the Python harness ---------------------------------------------------
if ! command -v python3 >/dev/null 2>&1; then
	skip "fuzz_suppressions: replay and ${quick}-second run" "python3 not found"
else
	supp=$(find tests/fuzz/regress/suppressions \( -name '*.supp' -o -name '*.json' \) 2>/dev/null | sort)
	for f in $supp; do
		if python3 tests/fuzz/fuzz_suppressions.py --replay "$f" >"$T/out" 2>&1; then
			pass "fuzz_suppressions replays $f"
		else
			fail "fuzz_suppressions replays $f" "$(grep -v '^ok' "$T/out" | head -20)"
		fi
	done
	if python3 tests/fuzz/fuzz_suppressions.py --seconds "$quick" \
		--known tests/fuzz/regress/suppressions \
		--regress "$T/supp-findings" >"$T/out" 2>&1; then
		pass "$(tail -1 "$T/out")"
	else
		fail "fuzz_suppressions: ${quick}-second run" "$(cat "$T/out")
$(for f in "$T"/supp-findings/*.supp; do [ -f "$f" ] && { echo "input $f:"; od -c "$f" | head -8; }; done)"
	fi
fi

echo "1..$n"
[ "$failed" -eq 0 ]
