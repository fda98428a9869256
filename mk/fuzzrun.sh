#!/bin/sh
# mk/fuzzrun.sh run SECONDS MAX_LEN FUZZ_DIR CORPUS_DIR - the body of
# `make fuzz` (mk/fuzz.mk).
#
# Runs build/fuzz/fuzz_options, build/fuzz/fuzz_api (libFuzzer) and
# tests/fuzz/fuzz_suppressions.py for SECONDS each.  Corpora live in
# CORPUS_DIR/NAME (seeded from tests/fuzz/seeds/NAME).  A crash, leak, OOM or
# timeout input is copied to tests/fuzz/regress/NAME/ (the Python harness
# writes its own there), where tests/fuzz/t_fuzz_regress.sh replays it; the
# run then fails.  Prints one summary line per harness: executions, rate,
# corpus size, findings.
set -u
[ "$1" = run ] || { echo "usage: $0 run SECONDS MAX_LEN FUZZ_DIR CORPUS_DIR" >&2; exit 2; }
secs=$2
maxlen=$3
fdir=$4
corpus=$5
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
fail=0
summary=""

for name in options api; do
	bin=$fdir/fuzz_$name
	cdir=$corpus/$name
	adir=$fdir/artifacts/$name
	log=$fdir/fuzz_$name.log
	mkdir -p "$cdir" "$adir"
	rm -f "$adir"/*
	dict=""
	[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
	echo "== fuzz_$name: ${secs}s, corpus $cdir, log $log"
	t0=$(date +%s)
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -max_len="$maxlen" -timeout=30 \
		-rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$adir/" \
		$dict "$cdir" "tests/fuzz/seeds/$name" >"$log" 2>&1
	rc=$?
	t=$(($(date +%s) - t0))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	units=$(find "$cdir" -type f | wc -l)
	found=0
	for a in "$adir"/*; do
		[ -f "$a" ] || continue
		found=$((found + 1))
		mkdir -p "tests/fuzz/regress/$name"
		cp "$a" "tests/fuzz/regress/$name/"
		echo "   FINDING: $a -> tests/fuzz/regress/$name/$(basename "$a")"
	done
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		fail=1
		grep -E "fuzz_(api|options):|ERROR: |SUMMARY: |runtime error:|Test unit written" \
			"$log" | head -20 | sed 's/^/   /'
	fi
	line="fuzz_$name: ${execs:-?} executions in ${t}s (${rate:-?}/s), corpus $units inputs, $found finding(s), exit $rc"
	echo "   $line"
	summary="$summary$line
"
done

echo "== fuzz_suppressions.py: ${secs}s, corpus $corpus/suppressions"
t0=$(date +%s)
log=$fdir/fuzz_suppressions.log
mkdir -p "$fdir"
python3 tests/fuzz/fuzz_suppressions.py --seconds "$secs" \
	--corpus "$corpus/suppressions" \
	--regress tests/fuzz/regress/suppressions >"$log" 2>&1
rc=$?
sed 's/^/   /' "$log" | tail -30
[ "$rc" -ne 0 ] && fail=1
summary="$summary$(tail -1 "$log"), exit $rc
"

echo "== fuzz summary"
printf '%s' "$summary" | sed 's/^/   /'
if [ "$fail" -ne 0 ]; then
	echo "fuzz: FINDINGS (inputs under tests/fuzz/regress/; replay: bash tests/fuzz/t_fuzz_regress.sh)"
	exit 1
fi
echo "fuzz: no findings"
