#!/usr/bin/env bash
# t_regress.sh - defects found by reading the architecture (TAP), each
# with the program that showed it:
#   ar_threads300  300 live threads at exit, each holding one block in a
#                  live local and one only in a dead frame below its stack
#                  pointer: 300 reachable and 300 definitely lost, as
#                  memcheck says.  The scan read 256 thread stacks at most
#                  while the registry holds 8,192; the other stacks were
#                  read whole as anonymous memory, dead frames included.
# The internal-realloc path that dereferenced a vanished table entry is
# covered by build/tests/unit_internals.
set -u
ROOT=${MPWRAP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
LIB=${MPWRAP_LIB:-$ROOT/libmpwrap.so}
T=$(mktemp -d "${TMPDIR:-/tmp}/t_regress.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

for cc in "gcc -O0" "clang -O2"; do
	bin=$T/threads300-${cc%% *}
	if ! $cc -g -pthread "$ROOT/tests/arch/ar_threads300.c" -o "$bin" 2>"$T/cc.err"; then
		notok "ar_threads300 builds with $cc" "$(head -3 "$T/cc.err")"
		continue
	fi
	bad=""
	for run in 1 2 3; do
		rm -f "$T/r.json"
		out=$(timeout 60 env MPWRAP_OPTIONS="json_path=$T/r.json:log_path=$T/r.log:show_reachable=1" \
			LD_PRELOAD="$LIB" "$bin" 2>&1)
		rc=$?
		res=$(python3 - "$T/r.json" <<'PY' 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]["leaks"]
held = sum(l["blocks"] for l in r["leaks"] if l["kind"] == "reachable"
           and l["stack"] and l["stack"][0].get("function") == "hold")
lost = sum(l["blocks"] for l in r["leaks"] if l["kind"] == "definite"
           and l["stack"] and l["stack"][0].get("function") == "lose_in_dead_frame")
print(s["definite"]["blocks"], lost, s["indirect"]["blocks"], s["possible"]["blocks"], held)
PY
)
		[ "$rc" = 0 ] && [ "$out" = "300 threads hold their blocks" ] && \
			[ "$res" = "300 300 0 0 300" ] || bad="$bad run $run: rc=$rc out='$out' (definite, of them lost in the dead frame, indirect, possible, held by hold) = '$res';"
	done
	if [ -z "$bad" ]; then
		ok "300 live threads: 300 blocks reachable, 300 definitely lost ($cc, 3 runs)"
	else
		notok "300 live threads: 300 blocks reachable, 300 definitely lost ($cc, 3 runs)" "$bad"
	fi
done
echo "# $n checks, $fails failed"
[ "$fails" = 0 ]
