#!/usr/bin/env bash
# t_pools.sh - the program's own allocators: pool annotations
# (include/mpwrap/pools.h) and programs annotated for Valgrind rebuilt with
# include/mpwrap/valgrind-compat first on the include path.
#
# tests/progs/cp_pools.c (written from memcheck's manual) is built twice:
# against Debian's <valgrind/memcheck.h> for memcheck and against our
# stand-in for libmpwrap.so.  Each case has one expected verdict, written
# below: leak groups as (kind, direct bytes, blocks, the functions of the
# allocation stack below main) and errors as (kind, functions); mpwrap's
# report (JSON and text) must be exactly that, and so must memcheck's on
# the same source (when valgrind is installed), except where the table
# says the two differ (a second free: memcheck calls it an invalid free,
# we a double free, since we remember the first).
#
# Environment (exported by `make test`; defaulted when run by hand):
#   MPWRAP_ROOT, MPWRAP_LIB, MPWRAP_TFLAGS as in t_preload.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_pools
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

cat >"$T/check.py" <<'PY'
import os
exec(open(os.path.join(os.environ["PROGS"], "checklib.py")).read())

A = "arena_alloc"
# case: (leak groups, errors); functions from the allocation frame up to main
EXP = {
 "leak": ([("reachable", 24, 1, ["arena_new", "case_leak"]),
           ("reachable", 48, 1, [A, "make_node", "case_leak"]),
           ("indirect", 48, 1, [A, "make_node", "case_leak"]),
           ("definite", 48, 1, [A, "make_node", "case_leak"]),
           ("definite", 100, 1, [A, "make_big", "case_leak"])], []),
 "freed": ([("reachable", 24, 1, ["arena_new", "case_freed"]),
            ("definite", 100, 1, [A, "make_big", "case_freed"])], []),
 "destroy": ([("definite", 4096, 1, ["arena_new", "case_destroy"])], []),
 "trim": ([("reachable", 24, 1, ["arena_new", "case_trim"]),
           ("definite", 200, 2, [A, "make_big", "case_trim"])], []),
 "move": ([("reachable", 24, 1, ["case_move"]),
           ("definite", 48, 1, [A, "make_node", "case_move"])], []),
 "autofree": ([("reachable", 24, 1, ["arena_new", "case_autofree"]),
               ("reachable", 1024, 1, [A, "case_autofree"]),
               ("definite", 48, 1, ["meta_object", "case_autofree"]),
               ("definite", 48, 1, ["meta_object", "case_autofree"])], []),
 "malloclike": ([("definite", 80, 1, ["carve", "case_malloclike"]),
                 ("definite", 200, 1, ["carve", "case_malloclike"])], []),
 "badfree": ([("reachable", 24, 1, ["arena_new", "case_badfree"]),
              ("reachable", 48, 1, [A, "make_node", "case_badfree"])],
             [("double-free", ["arena_free", "case_badfree"]),
              ("invalid-free", ["arena_free", "case_badfree"])]),
 "resize": ([("definite", 72, 1, ["carve", "case_resize"])], []),
 # redzones and poison: memcheck has instrumentation and reports the write
 # itself (MC below); mpwrap finds its damage at the free, at the block's
 # reuse or at exit (no stack then)
 "overflow": ([("reachable", 24, 1, ["arena_new", "case_overflow"]),
               ("reachable", 48, 1, [A, "make_node", "case_overflow"])],
              [("heap-buffer-overflow", ["arena_free", "case_overflow"])]),
 "underflow": ([("reachable", 24, 1, ["arena_new", "case_underflow"]),
                ("reachable", 48, 1, [A, "make_node", "case_underflow"])],
               [("heap-buffer-underflow", [])]),
 "uaf": ([("reachable", 24, 1, ["arena_new", "case_uaf"]),
          ("reachable", 48, 1, ["arena_reuse", "case_uaf"])],
         [("use-after-free", ["arena_reuse", "case_uaf"])]),
 "mapped": ([("reachable", 24, 1, ["case_mapped"]),
            ("reachable", 48, 1, [A, "make_node", "case_mapped"]),
             ("indirect", 48, 1, [A, "make_node", "case_mapped"]),
             ("definite", 48, 1, [A, "make_node", "case_mapped"])], []),
 "freelist": ([("reachable", 24, 1, ["arena_new", "case_freelist"]),
               ("reachable", 48, 1, ["list_alloc", "case_freelist"]),
               ("reachable", 48, 1, ["list_alloc", "case_freelist"])], []),
 "check": ([("reachable", 24, 1, ["arena_new", "case_check"]),
            ("reachable", 48, 1, [A, "make_node", "case_check"])],
           [("heap-buffer-overflow", ["case_check"])]),
 "uafexit": ([("reachable", 24, 1, ["arena_new", "case_uafexit"]),
              ("reachable", 48, 1, [A, "make_node", "case_uafexit"])],
             [("use-after-free", [])]),
}
MEMCHECK_ERR = {"double-free": "invalid-free"}  # no record of the first free
# the error's shape: offset, the locating line, allocation and free stacks
DETAIL = {
 "overflow": (40, "is 0 bytes after the end of the 40-byte block",
              [A, "case_overflow"], []),
 "underflow": (-3, "is 3 bytes before the start of the 48-byte block",
               [A, "make_node", "case_underflow"], []),
 "check": (50, "is 2 bytes after the end of the 48-byte block",
           [A, "make_node", "case_check"], []),
 "uaf": (8, "is 8 bytes inside the freed 48-byte block",
         [A, "make_node", "case_uaf"], ["arena_free", "case_uaf"]),
 "uafexit": (20, "is 20 bytes inside the freed 48-byte block",
             [A, "make_node", "case_uafexit"], ["arena_free", "case_uafexit"]),
}
# memcheck's errors where they are not ours: (kind, functions of the access)
MC = {c: [("invalid-write", ["scribble", "case_" + c])]
      for c in ("overflow", "underflow", "uaf", "uafexit", "check")}
# memcheck's leak groups where they are not ours: it scans an anonymous
# mapping as a root, the pool objects in it included, so the object only a
# lost one points to is reachable for it; for us indirect, as in a heap chunk
MC_GROUPS = {"mapped": [("reachable", 24, 1, ["case_mapped"]),
                        ("reachable", 48, 1, [A, "make_node", "case_mapped"]),
                        ("reachable", 48, 1, [A, "make_node", "case_mapped"]),
                        ("definite", 48, 1, [A, "make_node", "case_mapped"])],
             # memcheck reads no undefined word as a pointer: the stale link
             # in an object handed out again (MEMPOOL_ALLOC, not zeroed) is
             # undefined; we have no definedness and follow it
             "freelist": [("reachable", 24, 1, ["arena_new", "case_freelist"]),
                          ("reachable", 48, 1, ["list_alloc", "case_freelist"]),
                          ("definite", 48, 1, ["list_alloc", "case_freelist"])]}

def fns(stack):
    out = []
    for f in stack:
        fn = f.get("function") or "?"
        if fn == "main":
            break
        if fn not in ("malloc",):
            out.append(fn)
    return out

def same(what, got, want):
    need(sorted(got) == sorted(want), "%s: got %s, expected %s" % (what, sorted(got), sorted(want)))

def mpwrap(case):
    J, L, _ = load()
    groups, errs = EXP[case]
    for src, gs in (("JSON", J["leaks"]), ("text", L["leaks"])):
        same(src + " leak groups", [(g["kind"], g.get("direct_bytes", g["bytes"]),
                                     g["blocks"], fns(g["stack"])) for g in gs], groups)
    for src, es in (("JSON", J["errors"]), ("text", L["errors"])):
        got = [(e["kind"], fns(e["stack"])) for e in es]
        need(got == errs, "%s errors %s, expected %s" % (src, got, errs))
    if case in DETAIL:
        off, loc, al, fr = DETAIL[case]
        e = J["errors"][0]
        need(e["offset"] == off and e["count"] == 1, "offset %s count %s" % (e["offset"], e["count"]))
        need(loc in e["location"]["text"], "location %r" % e["location"]["text"])
        need(fns(e["alloc_stack"]) == al, "alloc stack %s" % fns(e["alloc_stack"]))
        need(fns(e.get("free_stack") or []) == fr, "free stack %s" % e.get("free_stack"))

KIND = {"definitely lost": "definite", "indirectly lost": "indirect",
        "possibly lost": "possible", "still reachable": "reachable"}

def memcheck(case):
    text = open(os.path.join(RD, "vg.log")).read()
    groups, errs, cur, got_err = [], [], None, []
    for raw in text.splitlines():
        l = re.sub(r"^==\d+== ?", "", raw)
        m = re.match(r"^([\d,]+) (?:\(([\d,]+) direct, [\d,]+ indirect\) )?bytes in ([\d,]+) blocks are (.*?) in loss record", l)
        if m:
            direct = m.group(2) or m.group(1)
            cur = [KIND[m.group(4)], int(direct.replace(",", "")),
                   int(m.group(3).replace(",", "")), [], True]
            groups.append(cur)
            continue
        if l.startswith("Invalid free()") or l.startswith("Invalid write of"):
            cur = ["invalid-free" if "free" in l else "invalid-write", None, None, [], True]
            got_err.append(cur)
            continue
        m = re.match(r"^\s+(?:at|by) 0x[0-9A-F]+: (\S+)", l)
        if m and cur is not None and cur[4]:
            if m.group(1) == "main":
                cur[4] = False
            elif m.group(1) != "malloc":
                cur[3].append(m.group(1))
            continue
        if not m and cur is not None:
            cur[4] = False
    want_g, want_e = EXP[case]
    want_g = MC_GROUPS.get(case, want_g)
    same("memcheck leak groups", [(g[0], g[1], g[2], g[3]) for g in groups], want_g)
    if case in MC:
        want_e = MC[case]
    need([e[0] for e in got_err] == [MEMCHECK_ERR.get(k, k) for k, _ in want_e],
         "memcheck errors %s, expected %s" % ([(e[0], e[3]) for e in got_err], want_e))
    need([e[3] for e in got_err] == [f for _, f in want_e],
         "memcheck error stacks %s" % [e[3] for e in got_err])

run_checks()
PY

CASES="leak freed destroy trim move autofree malloclike badfree resize overflow underflow uaf uafexit mapped freelist check"

# ------------------------------------------------------------ build
# shellcheck disable=SC2086
compile cp "$T/cc.cp_pools.mp" $CC $MPWRAP_TFLAGS -Iinclude/mpwrap/valgrind-compat \
	tests/progs/cp_pools.c -o "$B/cp_pools"
HAVE_VG=0
if [ -f /usr/include/valgrind/memcheck.h ] && command -v valgrind >/dev/null; then
	HAVE_VG=1
	# shellcheck disable=SC2086
	compile cpvg "$T/cc.cp_pools.vg" $CC $MPWRAP_TFLAGS tests/progs/cp_pools.c \
		-o "$B/cp_pools_vg"
fi
wait
built "cp_pools builds with the Valgrind stand-in" mp cp_pools

# ------------------------------------------------------------ the tests
if have cp_pools "annotations without the preload"; then
	out=$(for c in $CASES; do "$B/cp_pools" "$c" || echo "$c: $?"; done 2>&1)
	if [ -z "$out" ]; then pass "every case runs without libmpwrap.so (weak references)"
	else fail "every case runs without libmpwrap.so (weak references)" "$out"; fi
fi

for c in $CASES; do
	have cp_pools "$c" || continue
	OPTS=show_reachable=1 prun "$c" "$B/cp_pools" "$c"
	status_is "mpwrap: $c" 0 && check "mpwrap: $c: leak groups and errors as memcheck's" "mpwrap('$c')"
	if [ "$HAVE_VG" = 1 ] && [ -x "$B/cp_pools_vg" ]; then
		(cd "$RD" && timeout 120 valgrind -q --leak-check=full --show-leak-kinds=all \
			--num-callers=12 "$B/cp_pools_vg" "$c" >vg.out 2>vg.log)
		check "memcheck: $c: the same verdict on the same source" "memcheck('$c')"
	fi
done

# the leak-check requests mid-run: VALGRIND_DO_LEAK_CHECK after the last
# pointers to a malloc'd block (100 bytes) and a pool object (40) are
# dropped, then COUNT_LEAKS / COUNT_LEAK_BLOCKS: the figures memcheck gives
want_lr='leaked 140 dubious 0
leaked blocks 2 dubious blocks 0'
have cp_pools "leakreq" && {
	OPTS= prun leakreq "$B/cp_pools" leakreq
	got=$(cat "$RD/out" 2>/dev/null)
	if [ "$got" = "$want_lr" ]; then pass "mpwrap: leakreq: COUNT_LEAKS after DO_LEAK_CHECK as memcheck's"
	else fail "mpwrap: leakreq: COUNT_LEAKS after DO_LEAK_CHECK as memcheck's" "$got"; fi
	if [ "$HAVE_VG" = 1 ] && [ -x "$B/cp_pools_vg" ]; then
		got=$(cd "$RD" && timeout 120 valgrind -q --leak-check=full "$B/cp_pools_vg" leakreq 2>/dev/null)
		if [ "$got" = "$want_lr" ]; then pass "memcheck: leakreq: the same figures"
		else fail "memcheck: leakreq: the same figures" "$got"; fi
	fi
}

# the pool's chunk comes back as a plain block once its pool is destroyed
# (case destroy above); a container's bytes are never counted
have cp_pools "container" && {
	OPTS=show_reachable=1 prun leak2 "$B/cp_pools" leak
	check "the arena's 4096-byte chunk is no block of the report while it holds pool blocks" \
		'J, L, _ = load(); need(not [g for g in J["leaks"] if g["bytes"] == 4096], "chunk listed: %s" % [(g["kind"], g["bytes"]) for g in J["leaks"]])'
}

echo "1..$n"
echo "# $failed of $n failed; $((SECONDS - start)) s"
[ "$failed" -eq 0 ]
