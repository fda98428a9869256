# tap.sh - the TAP harness shared by t_mpcheck.sh and t_reports.sh, sourced
# after they set $T (their scratch directory; each run's stderr is $T/err
# and the status $rc).
# shellcheck shell=bash

n=0
failed=0
# report NAME WHY: one TAP line; WHY empty means pass.
report() {
	n=$((n + 1))
	if [ -z "$2" ]; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1"
		echo "# $2"
		sed 's/^/#   stderr: /' "$T/err" | head -n 25
	fi
}
skip() { n=$((n + 1)); echo "ok $n - # SKIP $1"; }

# expect NAME STATUS [TEXT...]: the last run exited STATUS, its stderr has
# each TEXT and no traceback (mpcheck's failures are one line).
expect() {
	local name=$1 want=$2 why="" s
	shift 2
	[ "$rc" = "$want" ] || why="exit status $rc, expected $want"
	for s in "$@"; do
		grep -qF -- "$s" "$T/err" || why="$why; stderr lacks: $s"
	done
	! grep -q -e Traceback -e 'internal error' "$T/err" || why="$why; a traceback"
	report "$name" "$why"
}

# check NAME COMMAND...: COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$T/check" 2>&1; then report "$name" ""
	else report "$name" "failed: $* ($(head -c 300 "$T/check"))"; fi
}

# py FILE CODE: run python CODE with `d` = the JSON in FILE.
py() { python3 -c "import json,re,sys; d=json.load(open(sys.argv[1])); $2" "$1"; }
