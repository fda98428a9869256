#!/usr/bin/env bash
# t_leakkinds.sh - leak classification by libmpwrap.so (LD_PRELOAD).
#
# Programs with known heap graphs (tests/progs/lk_*), built at -O0 with
# volatile stores so pointers sit exactly where the source puts them.
# Asserts the LEAK SUMMARY and the JSON summary exactly, and the kind,
# bytes, blocks and allocating function and file:line of each group.
#
# No program scrubs its stack: the scan starts where the program handed
# control to the checker (the frame that called exit, or the one main
# returned to), so copies of pointers in dead frames below it and in the
# checker's own frames never decide a kind (tests/verdict checks that on
# every shape, with gcc and clang at -O0 and -O2, against memcheck).
#
# Programs whose point is that some block is *reachable* first allocate an
# "anchor" (tp_anchor in tprog.h: a 5000-byte block held by a static, the
# lowest-addressed live block), so that a root which happens to point at
# the lowest live block cannot make them pass; the anchor is taken out of
# the summaries before comparing.  Programs about lost blocks have none.
#
# pthread_create gives every thread a DTV (TLS vector) that ld.so callocs
# through our malloc and that only glibc points to: from the thread
# descriptor as dtv + 1 (an interior pointer) while the thread runs, from
# glibc's cache of stacks once it has ended.  Checks on programs with
# threads require each such block to be not lost (reachable, or possible),
# and assert the summary exactly without them.
#
# Environment (exported by `make test`; defaulted when run by hand):
#   MPWRAP_ROOT, MPWRAP_LIB, MPWRAP_TFLAGS as in t_preload.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_leakkinds
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

cat >"$T/check.py" <<'PY'
import os
exec(open(os.path.join(os.environ["PROGS"], "checklib.py")).read())


def is_dtv(g):
    return any(f.get("function") in ("allocate_dtv", "_dl_allocate_tls")
               for f in g["stack"])

def is_anchor(g):
    return any(f.get("function") == "tp_anchor" for f in g["stack"])

def summary_sans(J, L, ndtv=0, anchor=False, **want):
    """The summaries are exactly `want` once two kinds of blocks are taken
    out: glibc's thread DTVs (allocated in ld.so by pthread_create): exactly
    ndtv blocks, none of them lost (reachable, or possible through the
    descriptor's dtv + 1); and, with anchor, tp_anchor's block: exactly one
    reachable 5000-byte block.  Those are found in the JSON groups, which list
    reachable groups (as the text does) only with show_reachable=1: a check
    with ndtv or anchor runs with it."""
    d = [g for g in J["leaks"] if is_dtv(g)]
    blocks = sum(g["blocks"] for g in d)
    need(blocks == ndtv, "JSON: %d glibc DTV blocks, expected %d" % (blocks, ndtv))
    need(all(g["kind"] in ("reachable", "possible") for g in d),
         "a glibc DTV is reported lost: %s" % [(g["kind"], g["bytes"], g["blocks"]) for g in d])
    a = [g for g in J["leaks"] if is_anchor(g)]
    if anchor:
        need([(g["kind"], g["bytes"], g["blocks"]) for g in a] == [("reachable", 5000, 1)],
             "the anchor block is %s, expected reachable 5000 bytes in 1 block"
             % [(g["kind"], g["bytes"], g["blocks"]) for g in a])
    d += a
    for src, summ in (("JSON", J["summary"]["leaks"]), ("text", L["summary"])):
        for k, (b, n) in want.items():
            got = summ.get(k) or {"bytes": 0, "blocks": 0}
            sb = sum(g["bytes"] for g in d if g["kind"] == k)
            sn = sum(g["blocks"] for g in d if g["kind"] == k)
            need((got["bytes"] - sb, got["blocks"] - sn) == (b, n),
                 "%s summary %s is %s; without the DTV/anchor blocks %d bytes "
                 "in %d blocks, expected %d in %d" % (
                     src, k, got, got["bytes"] - sb, got["blocks"] - sn, b, n))

def text_line(err, pattern):
    need(any(re.search(pattern, l) for l in err["lines"]),
         "text report lacks /%s/; it has: %s" % (pattern, err["lines"]))

run_checks()
PY

# ------------------------------------------------------------ build

LPROGS="lk_list lk_global lk_interior lk_thread_stack lk_tls lk_tsd lk_cycle
        lk_xor lk_heap_held lk_damaged lk_joined"
F="$MPWRAP_TFLAGS -I$P"
mkdir -p "$B/lib"
# compiled in parallel (in the repo root, for -Iinclude); status in LOG.rc
for p in $LPROGS; do
	(cd "$MPWRAP_ROOT" && $CC $F "$P/$p.c" -o "$B/$p" >"$T/cc.$p" 2>&1
	 echo $? >"$T/cc.$p.rc") &
done
(cd "$MPWRAP_ROOT" &&
	$CC $F -shared -fPIC "$P/lk_solib_lib.c" -o "$B/lib/liblkkeep.so" &&
	$CC $F "$P/lk_solib.c" -o "$B/lk_solib" -L"$B/lib" -llkkeep \
		-Wl,-rpath,"$B/lib"
 echo $? >"$T/cc.lk_solib.rc") >"$T/cc.lk_solib" 2>&1 &
wait
errs=""
for p in $LPROGS lk_solib; do
	[ "$(cat "$T/cc.$p.rc" 2>/dev/null)" = 0 ] ||
		errs="$errs$p: $(head -c 300 "$T/cc.$p")
"
done
if [ -z "$errs" ]; then pass "build the leak-graph programs"
else fail "build the leak-graph programs" "$errs"; fi

# kinds NAME PROG ARGS... -- CODE [KEY=VALUE...]: run PROG (must exit 0),
# then check CODE.
kinds() {
	local name=$1 prog=$2
	shift 2
	local args=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	have "$prog" "$name" || return
	prun "$prog${args[0]:+.${args[0]}}${OPTS:+.o}" "$B/$prog" "${args[@]}"
	status_is "$name" 0 && check "$name" "$@"
}

# ------------------------------------------------------------ the tests

L_NODE=$(line_of "$P/lk_list.c" "/* NODE_SITE */")
L_GLOBAL=$(line_of "$P/lk_global.c" "/* GLOBAL_SITE */")
L_SMALL=$(line_of "$P/lk_interior.c" "/* SMALL_SITE */")
L_LARGE=$(line_of "$P/lk_interior.c" "/* LARGE_SITE */")
L_THREAD=$(line_of "$P/lk_thread_stack.c" "/* THREAD_SITE */")
L_TLS=$(line_of "$P/lk_tls.c" "/* TLS_SITE */")
L_TSD=$(line_of "$P/lk_tsd.c" "/* TSD_SITE */")
L_CA=$(line_of "$P/lk_cycle.c" "/* CYCLE_A */")
L_CB=$(line_of "$P/lk_cycle.c" "/* CYCLE_B */")
L_DAMAGED=$(line_of "$P/lk_damaged.c" "/* DAMAGED_SITE */")
L_XOR=$(line_of "$P/lk_xor.c" "/* XOR_SITE */")
L_HA=$(line_of "$P/lk_heap_held.c" "/* SITE_A */")
L_HB=$(line_of "$P/lk_heap_held.c" "/* SITE_B */")
L_HC=$(line_of "$P/lk_heap_held.c" "/* SITE_C */")
L_LIB=$(line_of "$P/lk_solib_lib.c" "/* LIB_SITE */")

for order in forward reverse; do
	kinds "leaked 10-node list ($order): 1 definite 32 B + 9 indirect 288 B" \
		lk_list "$order" -- '
J, L, pid = load()
errors_are(J, L, [])
summary_is(J, L, definite=(32, 1), indirect=(288, 9), possible=(0, 0), reachable=(0, 0))
leak_group(J, L, "definite", "build_and_drop", "lk_list.c", V["l"], 32, 1)
leak_group(J, L, "indirect", "build_and_drop", "lk_list.c", V["l"], 288, 9)
' l="$L_NODE"
done

kinds "block held by a global: reachable, counted, not listed (text nor JSON)" lk_global -- '
J, L, pid = load()
# the anchor (5000 bytes) and the global block (200): counted in both
# summaries; no group of either kind listed without show_reachable
summary_is(J, L, definite=(0, 0), indirect=(0, 0), possible=(0, 0), reachable=(5200, 2))
need(not L["leaks"], "the text report lists groups without show_reachable: %s"
     % [(g["kind"], g["bytes"]) for g in L["leaks"]])
need(L.get("clean_line") or
     re.search(r"still reachable  \d+ bytes in \d+ blocks? \(show_reachable=1 lists them\)",
               L["raw"]), "neither the one-line clean report nor the show_reachable hint")
need(not J["leaks"], "the JSON lists groups nobody asked for: %s"
     % [(g["kind"], g["bytes"]) for g in J["leaks"]])
' l="$L_GLOBAL"

OPTS=show_reachable=1 kinds "block held by a global: listed with show_reachable=1" lk_global -- '
J, L, pid = load()
summary_sans(J, L, anchor=True, definite=(0, 0), indirect=(0, 0), possible=(0, 0), reachable=(200, 1))
leak_group(J, L, "reachable", "hold_global", "lk_global.c", V["l"], 200, 1)
need("show_reachable=1 lists them" not in L["raw"], "hint printed although listed")
' l="$L_GLOBAL"

kinds "blocks held only through interior pointers (p+8, q+100): possible" lk_interior -- '
J, L, pid = load()
summary_is(J, L, definite=(0, 0), indirect=(0, 0), possible=(5064, 2), reachable=(0, 0))
leak_group(J, L, "possible", "hold_small", "lk_interior.c", V["ls"], 64, 1)
leak_group(J, L, "possible", "hold_large", "lk_interior.c", V["ll"], 5000, 1)
' ls="$L_SMALL" ll="$L_LARGE"

# exitcode gating follows leak_kinds
name="exitcode=9 ignores possible leaks by default"
if have lk_interior "$name"; then
	OPTS=exitcode=9 prun interior.exit "$B/lk_interior"
	status_is "$name" 0 && pass "$name"
	name="exitcode=9 with leak_kinds=possible counts them"
	OPTS=exitcode=9:leak_kinds=possible prun interior.exit2 "$B/lk_interior"
	status_is "$name" 9 && pass "$name"
fi

for how in cond pause; do
	OPTS=show_reachable=1 kinds "block held only by a live thread's stack (blocked in $how): reachable" \
		lk_thread_stack "$how" -- '
J, L, pid = load()
errors_are(J, L, [])
summary_sans(J, L, ndtv=1, anchor=True, definite=(0, 0), indirect=(0, 0), possible=(0, 0), reachable=(48, 1))
leak_group(J, L, "reachable", "holder", "lk_thread_stack.c", V["l"], 48, 1)
' l="$L_THREAD"
done

OPTS=show_reachable=1 kinds "blocks held by __thread variables of main and of a live thread: reachable" lk_tls -- '
J, L, pid = load()
errors_are(J, L, [])
summary_sans(J, L, ndtv=1, anchor=True, definite=(0, 0), indirect=(0, 0), possible=(0, 0), reachable=(160, 2))
leak_group(J, L, "reachable", "keep_in_tls", "lk_tls.c", V["l"], 72, 1, caller="main")
leak_group(J, L, "reachable", "keep_in_tls", "lk_tls.c", V["l"], 88, 1, caller="holder")
' l="$L_TLS"

OPTS=show_reachable=1 kinds "block held by a pthread_setspecific value (few keys): reachable" \
	lk_tsd few -- '
J, L, pid = load()
summary_sans(J, L, anchor=True, definite=(0, 0), indirect=(0, 0), possible=(0, 0), reachable=(40, 1))
leak_group(J, L, "reachable", "keep_in_tsd", "lk_tsd.c", V["l"], 40, 1)
' l="$L_TSD"

# With 40 keys, the program's own pthread_setspecific callocs glibc's
# second-level key array (512 bytes, reachable from the thread descriptor):
# a real block of the program, listed as memcheck lists it.
OPTS=show_reachable=1 kinds "block held by a pthread_setspecific value (many keys): reachable" \
	lk_tsd many -- '
J, L, pid = load()
summary_sans(J, L, anchor=True, definite=(0, 0), indirect=(0, 0), possible=(0, 0), reachable=(552, 2))
def key_array(g):
    fn = (g["stack"][0].get("function") or "") if g["stack"] else ""
    return fn.split("@")[0] in ("pthread_setspecific", "__pthread_setspecific")
ka = [(g["kind"], g["bytes"], g["blocks"]) for g in J["leaks"] if key_array(g)]
need(ka == [("reachable", 512, 1)], "glibc key array groups: %s" % ka)
J["leaks"] = [g for g in J["leaks"] if not key_array(g)]
L["leaks"] = [g for g in L["leaks"] if not key_array(g)]
leak_group(J, L, "reachable", "keep_in_tsd", "lk_tsd.c", V["l"], 40, 1)
' l="$L_TSD"

kinds "leaked cycle of two blocks: 1 definite + 1 indirect" lk_cycle -- '
J, L, pid = load()
summary_is(J, L, definite=(48, 1), indirect=(48, 1), possible=(0, 0), reachable=(0, 0))
for src, groups in (("JSON", J["leaks"]), ("text", L["leaks"])):
    d = [g for g in groups if g["kind"] == "definite"]
    i = [g for g in groups if g["kind"] == "indirect"]
    if not need(len(d) == 1 and len(i) == 1, "%s: %d definite and %d indirect groups"
                % (src, len(d), len(i))):
        continue
    lines = sorted([d[0]["stack"][0].get("line"), i[0]["stack"][0].get("line")])
    need(lines == sorted([V["la"], V["lb"]]),
         "%s: the two groups come from lines %s, expected %d and %d"
         % (src, lines, V["la"], V["lb"]))
' la="$L_CA" lb="$L_CB"

kinds "pointer stored XOR-masked in a global: definite" lk_xor -- '
J, L, pid = load()
summary_is(J, L, definite=(128, 1), indirect=(0, 0), possible=(0, 0), reachable=(0, 0))
leak_group(J, L, "definite", "hide", "lk_xor.c", V["l"], 128, 1)
' l="$L_XOR"

OPTS=show_reachable=1 kinds "blocks held through reachable heap blocks (global->A->B(large)->C): reachable" \
	lk_heap_held -- '
J, L, pid = load()
summary_sans(J, L, anchor=True, definite=(0, 0), indirect=(0, 0), possible=(0, 0), reachable=(5160, 3))
for size, line in ((64, V["la"]), (5000, V["lb"]), (96, V["lc"])):
    gs = [g for g in J["leaks"] if g["stack"] and g["stack"][0].get("line") == line]
    need(len(gs) == 1 and (gs[0]["kind"], gs[0]["bytes"], gs[0]["blocks"]) == ("reachable", size, 1),
         "JSON: the block of line %d is %s, expected reachable %d bytes in 1 block"
         % (line, [(g["kind"], g["bytes"], g["blocks"]) for g in gs], size))
    if gs:
        site("JSON reachable stack", gs[0]["stack"], "build_chain", "lk_heap_held.c", line)
' la="$L_HA" lb="$L_HB" lc="$L_HC"

OPTS=show_reachable=1 kinds "block held by a static local of a library loaded at start: reachable" \
	lk_solib -- '
J, L, pid = load()
summary_sans(J, L, anchor=True, definite=(0, 0), indirect=(0, 0), possible=(0, 0), reachable=(120, 1))
leak_group(J, L, "reachable", "lib_keep", "lk_solib_lib.c", V["l"], 120, 1)
g = [g for g in J["leaks"] if g["kind"] == "reachable" and not is_anchor(g)]
if g and g[0]["stack"]:
    need((g[0]["stack"][0]["module"] or "").endswith("/liblkkeep.so"),
         "frame #0 module is %s" % g[0]["stack"][0]["module"])
' l="$L_LIB"

OPTS=show_reachable=1 kinds "leaked block with a reported overflow (exit-time check): still definite" lk_damaged -- '
J, L, pid = load()
errors_are(J, L, ["heap-buffer-overflow"])
summary_sans(J, L, anchor=True, definite=(100, 1), indirect=(0, 0), possible=(0, 0), reachable=(0, 0))
leak_group(J, L, "definite", "damage_and_drop", "lk_damaged.c", V["l"], 100, 1)
' l="$L_DAMAGED"

OPTS=show_reachable=1 kinds "a thread created and joined leaves nothing lost (glibc's cached thread DTV)" \
	lk_joined -- '
J, L, pid = load()
errors_are(J, L, [])
summary_sans(J, L, ndtv=1, anchor=True, definite=(0, 0), indirect=(0, 0), possible=(0, 0), reachable=(0, 0))
'

echo "1..$n"
echo "# $failed of $n failed; $((SECONDS - start)) s"
[ "$failed" -eq 0 ]
