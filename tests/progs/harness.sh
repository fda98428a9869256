# harness.sh - shared by t_preload.sh, t_leakkinds.sh and t_unwind.sh
# (sourced): defaults of the environment `make test` exports, temp dirs, TAP
# helpers, line_of, prun (run a program under the preload).
# Needs TEST_NAME, and `here` = the caller's directory (tests/).
: "${MPWRAP_ROOT:=$(cd "$here/.." && pwd)}"
: "${MPWRAP_LIB:=$MPWRAP_ROOT/libmpwrap.so}"
: "${MPWRAP_TFLAGS:=-g -O0 -fno-omit-frame-pointer -fno-optimize-sibling-calls -std=gnu11 -Wall -Wextra -Werror -Iinclude -pthread}"
CC=${CC:-cc}
CXX=${CXX:-c++}
unset LD_PRELOAD MPWRAP_OPTIONS
export LC_ALL=C

P=$MPWRAP_ROOT/tests/progs
T=$(mktemp -d "${TMPDIR:-/tmp}/${TEST_NAME}.XXXXXX")
trap 'rm -rf "$T"' EXIT
B=$T/bin
mkdir -p "$B" "$T/run"
start=$SECONDS

# ------------------------------------------------------------ harness

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
# fail NAME [DIAGNOSTIC LINES...]
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l"; done | head -n 25 | sed 's/^/#   /'
}

# line_of FILE MARKER: the line number of the one line of FILE holding MARKER.
line_of() {
	local hits
	hits=$(grep -nF -- "$2" "$1" | cut -d: -f1)
	if [ "$(printf '%s\n' "$hits" | grep -c .)" != 1 ]; then
		echo "marker '$2' is not on exactly one line of $1" >&2
		echo 0
		return
	fi
	echo "$hits"
}

if [ ! -f "$MPWRAP_LIB" ]; then
	fail "libmpwrap.so exists" "$MPWRAP_LIB not found: run make first"
	echo "1..$n"
	exit 1
fi

# prun ID PROG ARGS...: run PROG under the preload; reports, stdout and
# stderr land in $T/run/ID (= $RD); exit status in $rc.  Extra options come
# from $OPTS (colon-separated) and may replace the whole option string when
# $RAWOPTS is set.  $PRUN_TIMEOUT (default 30 s) bounds a run that hangs.
prun() {
	local id=$1
	shift
	RD=$T/run/$id
	rm -rf "$RD"
	mkdir -p "$RD"
	local o="json_path=$RD/r.%p.json:log_path=$RD/r.%p.log${OPTS:+:$OPTS}"
	[ -n "${RAWOPTS:-}" ] && o=${RAWOPTS//@RD@/$RD}
	# (the outer braces keep bash's "Aborted" notices off our output)
	{ (cd "$RD" && exec timeout -k 5 "${PRUN_TIMEOUT:-30}" env LD_PRELOAD="$MPWRAP_LIB" \
		MPWRAP_OPTIONS="$o" "$@" >"$RD/out" 2>"$RD/err"); } 2>/dev/null
	rc=$?
}

# The checker: check NAME CODE [KEY=VALUE...] runs python CODE against the
# reports in $RD (J = the JSON report, L = the parsed text log, V = the
# KEY=VALUEs, numbers as ints); need(cond, msg) records a problem.

# check NAME CODE [KEY=VALUE...]: one TAP line from the python CODE.
check() {
	local name=$1 code=$2 out
	shift 2
	if out=$(RD=$RD PROGS=$P python3 "$T/check.py" "$code" "$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$out" "(reports in ${RD#"$T"/}; exit status $rc)" \
			"log: $(head -c 600 "$RD"/r.*.log 2>/dev/null | tr '\n' '|')"
	fi
}

# compile OUT LOG CMD...: run CMD (in the repo root, for -Iinclude) in the
# background; its status lands in LOG.rc.
compile() {
	local log=$2
	shift 2
	(cd "$MPWRAP_ROOT" && "$@" >"$log" 2>&1; echo $? >"$log.rc") &
}

# built NAME SUFFIX PROG...: one TAP line, passing when every PROG compiled
# (its log $T/cc.PROG.SUFFIX says 0 in .rc; run `wait` first).
built() {
	local name=$1 sfx=$2 p errs=""
	shift 2
	for p in "$@"; do
		[ "$(cat "$T/cc.$p.$sfx.rc" 2>/dev/null)" = 0 ] ||
			errs="$errs$p: $(head -c 300 "$T/cc.$p.$sfx")
"
	done
	if [ -z "$errs" ]; then pass "$name"; else fail "$name" "$errs"; fi
}

# have PROG NAME: the program was built (else one failing TAP line).
have() {
	[ -x "$B/$1" ] && return 0
	fail "$2" "$1 was not built"
	return 1
}

# status NAME WANT: the last run exited with WANT (and did not time out).
status_is() {
	[ "$rc" = "$2" ] && return 0
	fail "$1" "exit status $rc, expected $2" "stderr: $(head -c 400 "$RD/err")"
	return 1
}
