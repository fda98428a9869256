#!/usr/bin/env bash
# t_scale.sh - the checker's costs in address space and time grow with what
# the program does, not faster (issue 24, items 8 and 12):
#   rb_aslimit steps   under ulimit -v 1 GiB, 1 MiB mallocs reach at least
#                      90% of what they reach without the checker (the
#                      stack depot once reserved 2 GiB at once: 50 of
#                      1017), and a leak made afterwards keeps its stack
#   rb_aslimit tight   no address space left for the stack depot: one
#                      notice line, said once; the program runs on
#   rb_realloc_grow    a buffer grown to 2 MiB in 128-byte steps copies at
#                      most 8x its size (the JSON's stats.realloc; every
#                      step once copied the whole block: 17 GB, 31 s); a
#                      write through the pointer a realloc replaced is
#                      still caught, for a small and a large block
#   rb_fork_quarantine a forked child's exit check visits the blocks it
#                      freed itself (5), not the parent's 20,000; its own
#                      write after free is still reported
#   rb_fork_exit_scan  with 100,000 inherited live blocks, a child that
#                      made 9 blocks classifies and guard-checks those 9
#                      and reads the few inherited pages it wrote (the
#                      JSON's stats.exit_check); its leaked list is still
#                      definite + indirect, its overflow of an inherited
#                      block caught at the free; with a grandchild alive
#                      at the child's exit (pages shared), the same verdict
# Bounds are counts from the reports, never wall time.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
TEST_NAME=t_scale
# shellcheck source=../progs/harness.sh
. "$here/progs/harness.sh"
R=$MPWRAP_ROOT/tests/robust

errs=""
for p in rb_aslimit rb_realloc_grow rb_fork_quarantine rb_fork_exit_scan; do
	$CC -g -O0 -fno-omit-frame-pointer "$R/$p.c" -o "$B/$p" 2>&1 || errs="$errs $p"
done
if [ -z "$errs" ]; then pass "build the reproducers"
else fail "build the reproducers" "failed:$errs"; fi

# ---- item 8: address space
plain=$( (ulimit -v 1048576; "$B/rb_aslimit" steps) 2>/dev/null)
( ulimit -v 1048576; prun aslimit "$B/rb_aslimit" steps; echo "$rc" >"$T/aslimit.rc" )
RD=$T/run/aslimit
rc=$(cat "$T/aslimit.rc")
got=$(cat "$RD/out" 2>/dev/null)
if [ "$rc" = 0 ] && [ -n "$plain" ] && [ -n "$got" ] && [ $((got * 10)) -ge $((plain * 9)) ]; then
	pass "ulimit -v 1 GiB: $got MiB of 1 MiB blocks, $plain without the checker"
else
	fail "ulimit -v 1 GiB: at least 90% of the 1 MiB blocks reached without the checker" \
		"got '$got', without the checker '$plain', exit $rc"
fi
if grep -q "definitely lost" "$RD"/r.*.log && grep -A1 "77 bytes in 1 block is definitely lost" \
		"$RD"/r.*.log | grep -q "in leak_after_limit " && ! grep -q "stacks cannot be recorded" "$RD"/r.*.log; then
	pass "ulimit -v 1 GiB: the leak made afterwards keeps its stack, no notice"
else
	fail "ulimit -v 1 GiB: the leak made afterwards keeps its stack, no notice" \
		"$(head -c 800 "$RD"/r.*.log)"
fi

OPTS=quarantine_mb=0 prun tight "$B/rb_aslimit" tight
said=$(grep -c "mpwrap: stacks cannot be recorded: no address space left" "$RD"/r.*.log)
if [ "$rc" = 0 ] && [ "$(cat "$RD/out")" = "limit
done" ] && [ "$said" = 1 ] && grep -q "55 bytes in 1 block is definitely lost" "$RD"/r.*.log; then
	pass "no address space for stacks: said once, the program runs on, its leak reported"
else
	fail "no address space for stacks: said once, the program runs on, its leak reported" \
		"exit $rc, notice lines: $said" "$(head -c 800 "$RD"/r.*.log)"
fi

# ---- item 12a: realloc
prun grow "$B/rb_realloc_grow" grow 2
if [ "$rc" = 0 ] && [ "$(cat "$RD/out")" = "2097152 63688" ] && python3 - "$RD" <<'PY'
import glob, json, sys
J = json.load(open(glob.glob(sys.argv[1] + "/r.*.json")[0]))
r = J["stats"].get("realloc")
if r is None or r["copied_bytes"] > 8 * 2097152:
    print("stats.realloc = %s (bound: 8 x 2 MiB copied)" % r)
    sys.exit(1)
PY
then pass "a buffer grown to 2 MiB in 128-byte steps copies at most 8x its size"
else fail "a buffer grown to 2 MiB in 128-byte steps copies at most 8x its size" "exit $rc" "$(cat "$RD/out")"
fi
for m in stale stale-large; do
	prun "$m" "$B/rb_realloc_grow" "$m"
	if [ "$rc" = 0 ] && grep -q "ERROR: use-after-free" "$RD"/r.*.log &&
	   grep -q "1 byte written after free, first at offset 3" "$RD"/r.*.log; then
		pass "$m: a write through the pointer realloc replaced is caught"
	else
		fail "$m: a write through the pointer realloc replaced is caught" "exit $rc" \
			"$(head -c 600 "$RD"/r.*.log)"
	fi
done

# ---- item 12b: a forked child's exit check
prun forkq "$B/rb_fork_quarantine"
if [ "$rc" = 0 ] && python3 - "$RD" <<'PY'
import glob, json, sys
seen = {}
for f in glob.glob(sys.argv[1] + "/r.*.json"):
    J = json.load(open(f))
    seen[J["pid"] if "pid" in J else f] = ((J["stats"].get("exit_check") or {}).get("quarantined_blocks"),
                                           [e["kind"] for e in J["errors"]])
got = sorted(seen.values(), key=lambda v: (v[0] is None, v[0]))
if len(got) != 2 or got[0] != (5, ["use-after-free"]) or got[1][0] is None or got[1][0] < 20000:
    print("exit checks (quarantined blocks visited, errors): %s; want the child (5, "
          "['use-after-free']) and the parent >= 20000" % got)
    sys.exit(1)
PY
then pass "a forked child's exit check visits its own 5 freed blocks, not the parent's 20,000"
else fail "a forked child's exit check visits its own 5 freed blocks, not the parent's 20,000" "exit $rc"
fi

prun forkscan "$B/rb_fork_exit_scan"
if [ "$rc" = 0 ] && python3 - "$RD" <<'PY2'
import glob, json, sys
procs = {}
for f in glob.glob(sys.argv[1] + "/r.*.json"):
    J = json.load(open(f))
    x = J["stats"].get("exit_check") or {}
    L = J["summary"]["leaks"]
    procs[x.get("fork_generation")] = (x, tuple(L[k]["bytes"] for k in ("definite", "indirect", "possible")),
                                       [e["kind"] for e in J["errors"]])
parent, child = procs.get(0), procs.get(1)
ok = parent and child and parent[0].get("leak_scan_blocks", 0) >= 100000
if ok:
    x = child[0]
    ok = (x.get("leak_scan_blocks") == 9 and x.get("live_blocks") == 9 and
          0 < x.get("inherited_pages", 0) <= 64 and x.get("quarantined_blocks", 99) <= 5 and
          child[1] == (32, 64, 0) and child[2] == ["heap-buffer-overflow"])
if not ok:
    print("parent %s\nchild %s" % (parent, child))
    sys.exit(1)
PY2
then pass "a forked child of a 100,000-block heap classifies its 9 blocks and reads few inherited pages"
else fail "a forked child of a 100,000-block heap classifies its 9 blocks and reads few inherited pages" "exit $rc"
fi
prun forkscan2 "$B/rb_fork_exit_scan" again
if [ "$rc" = 0 ] && python3 - "$RD" <<'PY2'
import glob, json, sys
got = {}
for f in glob.glob(sys.argv[1] + "/r.*.json"):
    J = json.load(open(f))
    L = J["summary"]["leaks"]
    got[(J["stats"].get("exit_check") or {}).get("fork_generation")] = tuple(
        L[k]["bytes"] for k in ("definite", "indirect", "possible"))
if got != {0: (0, 0, 0), 1: (32, 64, 0), 2: (0, 0, 0)}:
    print("verdicts by fork generation: %s" % got)
    sys.exit(1)
PY2
then pass "a child whose grandchild shares its pages at exit: the same verdicts"
else fail "a child whose grandchild shares its pages at exit: the same verdicts" "exit $rc"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
