#!/usr/bin/env bash
# t_cxx.sh - C++ under libmpwrap.so: operator new/delete families.
#
# tests/progs/pl_mismatch.cc (one mode per wrong pairing, plus a clean run
# of every replaceable form, a too-big new with a new-handler and an
# invalid alignment) and pl_cxx_replace.cc (a program with its own operator
# new/delete), each built with g++ and clang++ at -O0 and -O2: the verdict
# must not depend on the compiler.  Checks kind, both function names,
# sizes/alignments, the allocating and deallocating frames (file:line) in
# text and JSON, options, and mpcheck suppressions and SARIF by kind.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_cxx
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

cat >"$T/check.py" <<'PY'
import os
exec(open(os.path.join(os.environ["PROGS"], "checklib.py")).read())

SRC = {}
def line(prog, marker):
    if prog not in SRC:
        SRC[prog] = open(os.path.join(os.environ["PROGS"], prog)).read().splitlines()
    hits = [n + 1 for n, l in enumerate(SRC[prog]) if "/* %s */" % marker in l]
    must(len(hits) == 1, "marker %s is on %d lines" % (marker, len(hits)))
    return hits[0]

def named(base):
    return lambda f: f.split("(")[0] == base

run_checks()
PY

# ------------------------------------------------------------ build

CXXS="g++"
if command -v clang++ >/dev/null 2>&1; then CXXS="$CXXS clang++"
else echo "ok 1 # SKIP clang++ not installed: g++ only"; n=1; fi

cxxflags() {
	local f=" $MPWRAP_TFLAGS "
	f=${f// -std=gnu11 / -std=gnu++17 }
	if [ "$1" = O2 ]; then
		f=${f// -O0 / }
		f=${f// -fno-optimize-sibling-calls / }
		f="$f -O2 -g -fno-omit-frame-pointer"
	fi
	# clang 14 has sized deallocation off by default; g++ on
	echo "$f -fsized-deallocation -I$P"
}

BUILDS=""
for cx in $CXXS; do
	for o in O0 O2; do
		id=${cx%++}.$o
		BUILDS="$BUILDS $id"
		for p in pl_mismatch pl_cxx_replace; do
			# shellcheck disable=SC2046
			compile "$B/$p.$id" "$T/cc.$p.$id" $cx $(cxxflags $o) "$P/$p.cc" \
				-o "$B/$p.$id"
		done
	done
done
wait
for id in $BUILDS; do
	built "build the C++ test programs ($id)" "$id" pl_mismatch pl_cxx_replace
done

# ------------------------------------------------------------ the tests


# mode  kind  allocating family  deallocating function  bytes  by_*  drop_*
CASES="malloc_delete|alloc-dealloc-mismatch|malloc|operator delete|24|by_malloc|A_MALLOC|drop_delete|D_DELETE
new_free|alloc-dealloc-mismatch|operator new|free|24|by_new|A_NEW|drop_free|D_FREE
newarr_delete|alloc-dealloc-mismatch|operator new[]|operator delete|40|by_new_array|A_NEW_ARRAY|drop_delete|D_DELETE
new_deletearr|alloc-dealloc-mismatch|operator new|operator delete[]|24|by_new|A_NEW|drop_delete_array|D_DELETE_ARRAY
aligned_plain|alloc-dealloc-mismatch|aligned operator new|operator delete|64|by_new_aligned|A_NEW_ALIGNED|drop_plain|D_PLAIN
plain_aligned|alloc-dealloc-mismatch|operator new|aligned operator delete|24|by_new|A_NEW|drop_aligned|D_ALIGNED
new_realloc|alloc-dealloc-mismatch|operator new|realloc|24|by_new|A_NEW|drop_realloc|D_REALLOC
sized|new-delete-type-mismatch|operator new|operator delete|36|by_derived|A_DERIVED|drop_base|D_BASE
align|new-delete-type-mismatch|aligned operator new|aligned operator delete|64|by_new_aligned|A_NEW_ALIGNED|drop_aligned|D_ALIGNED"

for id in $BUILDS; do
	have "pl_mismatch.$id" "pl_mismatch ($id)" || continue
	while IFS='|' read -r mode kind fam dfn size afn am dfn2 dm; do
		name="$kind: $mode, allocated by $fam, freed by $dfn ($id)"
		prun "$mode.$id" "$B/pl_mismatch.$id" "$mode"
		status_is "$name" 0 || continue
		check "$name" '
J, L, pid = load()
errors_are(J, L, [V["kind"]])
e, t = J["errors"][0], L["errors"][0]
H = r"0x[0-9a-f]+"
d, fam, n = V["dfn"], V["fam"], V["size"]
if V["mode"] == "sized":
    want = r"%s\(%s, size 4\): the 36-byte block at %s was allocated by operator new with size 36, freed with size 4" % (re.escape(d), H, H)
    need((e["dealloc_size"], e["dealloc_alignment"], e["alloc_alignment"]) == (4, None, None),
         "JSON dealloc_size/dealloc_alignment/alloc_alignment = %s/%s/%s" % (
             e.get("dealloc_size"), e.get("dealloc_alignment"), e.get("alloc_alignment")))
elif V["mode"] == "align":
    want = r"%s\(%s, alignment 32\): the 64-byte block at %s was allocated by aligned operator new with alignment 64, freed with alignment 32" % (re.escape(d), H, H)
    need((e["dealloc_alignment"], e["alloc_alignment"]) == (32, 64),
         "JSON dealloc_alignment/alloc_alignment = %s/%s" % (e.get("dealloc_alignment"), e.get("alloc_alignment")))
else:
    want = r"%s\(%s\): the %d-byte block at %s was allocated by %s, freed by %s" % (
        re.escape(d), H, n, H, re.escape(fam), re.escape(d))
need(any(re.fullmatch(want, l) for l in t["lines"]), "text lacks /%s/; has %s" % (want, t["lines"]))
need(re.fullmatch(want, e["description"] or ""), "JSON description %r" % e["description"])
need((e["alloc_function"], e["dealloc_function"], e["function"], t["where"]) == (fam, d, d, d),
     "JSON alloc_function/dealloc_function/function, text where = %s/%s/%s/%s" % (
         e.get("alloc_function"), e.get("dealloc_function"), e["function"], t["where"]))
need((e["block_size"], e["offset"]) == (n, 0), "JSON block_size/offset %s/%s" % (e["block_size"], e["offset"]))
need(e["address"] == e["block_address"], "address is not the block")
for what, st in (("JSON stack", e["stack"]), ("text bad call", t["stack"])):
    site(what, st, named(V["dfn2"]), "pl_mismatch.cc", line("pl_mismatch.cc", V["dm"]))
for what, st in (("JSON alloc_stack", e["alloc_stack"]), ("text allocated by", t["alloc_stack"])):
    site(what, st, named(V["afn"]), "pl_mismatch.cc", line("pl_mismatch.cc", V["am"]))
# freed as its own family would have been: nothing leaks, nothing else reported
summary_is(J, L, definite=(0, 0), indirect=(0, 0), possible=(0, 0))
' mode="$mode" kind="$kind" fam="$fam" dfn="$dfn" size="$size" afn="$afn" am="$am" dfn2="$dfn2" dm="$dm"
	done <<<"$CASES"

	name="every replaceable new/delete form paired correctly: no report ($id)"
	prun "clean.$id" "$B/pl_mismatch.$id" clean
	status_is "$name" 0 && check "$name" '
J, L, pid = load()
need("clean 200 200" in open(os.path.join(RD, "out")).read(), "the program did not finish")
errors_are(J, L, [])
summary_is(J, L, definite=(0, 0), indirect=(0, 0), possible=(0, 0))
'

	for opt in alloc_dealloc_mismatch:new_free new_delete_type_mismatch:sized; do
		name="${opt%%:*}=0: $mode not reported, nothing leaks ($id)"
		OPTS="${opt%%:*}=0" prun "off.${opt%%:*}.$id" "$B/pl_mismatch.$id" "${opt#*:}"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
errors_are(J, L, [])
summary_is(J, L, definite=(0, 0))
'
	done

	name="allocation-size-too-big: operator new(SIZE_MAX-4095) reported once, new-handler called 3 times, bad_alloc; nothrow new[] NULL ($id)"
	prun "toobig.$id" "$B/pl_mismatch.$id" toobig
	status_is "$name" 0 && check "$name" '
J, L, pid = load()
out = open(os.path.join(RD, "out")).read()
need("bad_alloc after 3 handler calls" in out and "nothrow null" in out, "program says: %s" % out)
errors_are(J, L, ["allocation-size-too-big"] * 2)
e, t = J["errors"], L["errors"]
need([x["function"] for x in e] == ["operator new", "operator new[]"], "functions %s" % [x["function"] for x in e])
need(e[0]["arguments"] == {"size": 2**64 - 4096} and e[0]["max_size"] == 2**63 - 1,
     "JSON arguments/max_size %s/%s" % (e[0].get("arguments"), e[0].get("max_size")))
want = (r"operator new\(size 18446744073709547520\): requested size 0xfffffffffffff000 exceeds the "
        r"maximum allocation size 0x7fffffffffffffff \(a negative size: -4096\)")
need(any(re.fullmatch(want, l) for l in t[0]["lines"]), "text lacks /%s/: %s" % (want, t[0]["lines"]))
for what, st in (("JSON stack", e[0]["stack"]), ("text bad call", t[0]["stack"])):
    site(what, st, "main", "pl_mismatch.cc", line("pl_mismatch.cc", "TOO_BIG"))
'

	name="invalid-alignment: aligned new with alignment 48 (throwing and nothrow) ($id)"
	prun "badalign.$id" "$B/pl_mismatch.$id" badalign
	status_is "$name" 0 && check "$name" '
J, L, pid = load()
out = open(os.path.join(RD, "out")).read()
need("bad_alloc\nnothrow null" in out, "program says: %s" % out)
errors_are(J, L, ["invalid-alignment"] * 2)
e, t = J["errors"][0], L["errors"][0]
need(e["arguments"] == {"alignment": 48, "size": 64}, "JSON arguments %s" % e.get("arguments"))
want = r"aligned operator new\(alignment 48, size 64\): alignment is not a power of two"
need(any(re.fullmatch(want, l) for l in t["lines"]), "text lacks /%s/: %s" % (want, t["lines"]))
for what, st in (("JSON stack", e["stack"]), ("text bad call", t["stack"])):
    site(what, st, "main", "pl_mismatch.cc", line("pl_mismatch.cc", "BAD_ALIGN"))
'

	name="program with its own operator new/delete: they are called, nothing reported falsely, its leak found ($id)"
	if have "pl_cxx_replace.$id" "$name"; then
		prun "replace.$id" "$B/pl_cxx_replace.$id"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
out = open(os.path.join(RD, "out")).read()
need("own new called: yes, own delete called: yes" in out, "program says: %s" % out)
errors_are(J, L, [])
summary_is(J, L, definite=(24, 1), indirect=(0, 0), possible=(0, 0))
# frame #0 is its own operator new (inlined into leak_one at -O2)
own = lambda f: f.startswith("operator new(") or named("leak_one")(f)
leak_group(J, L, "definite", own, "pl_cxx_replace.cc",
           line("pl_cxx_replace.cc", "OWN_NEW"), 24, 1, idx=None, caller="leak_one()")
'
	fi
done

# ---- mpcheck: suppression by kind, SARIF rule and message
id=${BUILDS# }; id=${id%% *}
name="mpcheck: alloc-dealloc-mismatch gates (23), has a SARIF rule, and is suppressed by kind"
if [ -x "$B/pl_mismatch.$id" ]; then
	RD=$T/run/mpcheck; mkdir -p "$RD"
	(cd "$RD" && "$MPWRAP_ROOT/scripts/mpcheck" --quiet --sarif "$RD/s.sarif" -- \
		"$B/pl_mismatch.$id" newarr_delete >/dev/null 2>"$RD/gate.err")
	rc1=$?
	printf 'alloc-dealloc-mismatch:drop_delete*\n' >"$RD/supp"
	(cd "$RD" && "$MPWRAP_ROOT/scripts/mpcheck" --quiet --suppressions "$RD/supp" -- \
		"$B/pl_mismatch.$id" newarr_delete >/dev/null 2>"$RD/supp.err")
	rc2=$?
	printf 'new-delete-type-mismatch:drop_delete*\n' >"$RD/supp2"
	(cd "$RD" && "$MPWRAP_ROOT/scripts/mpcheck" --quiet --suppressions "$RD/supp2" -- \
		"$B/pl_mismatch.$id" newarr_delete >/dev/null 2>&1)
	rc3=$?
	rc=$rc1
	if [ "$rc1" != 23 ] || [ "$rc2" != 0 ] || [ "$rc3" != 23 ]; then
		fail "$name" "exit statuses $rc1 (gate) / $rc2 (suppressed) / $rc3 (other kind's suppression), expected 23/0/23" \
			"$(head -c 400 "$RD/gate.err")" "$(head -c 400 "$RD/supp.err")"
	else
		check "$name" '
s = json.load(open(os.path.join(RD, "s.sarif")))
run = s["runs"][0]
rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
need("alloc-dealloc-mismatch" in rules and rules["alloc-dealloc-mismatch"]["name"] == "AllocDeallocMismatch",
     "SARIF rules: %s" % list(rules))
res = [r for r in run["results"] if r["ruleId"] == "alloc-dealloc-mismatch"]
must(len(res) == 1, "%d alloc-dealloc-mismatch results" % len(res))
msg = res[0]["message"]["text"]
need("was allocated by operator new[], freed by operator delete" in msg, "SARIF message: %s" % msg)
loc = res[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
need(loc.startswith("drop_delete"), "SARIF location is %s" % loc)
'
	fi
fi

# ---- mpcheck knows every kind the library reports: a SARIF rule and a
# suppression prefix each (the kind names come from src/report/report.c)
name="mpcheck: every error kind of src/report/report.c has a SARIF rule and is a suppression kind"
out=$(python3 - "$MPWRAP_ROOT" <<'PY' 2>&1
import re, sys
root = sys.argv[1]
sys.path.insert(0, root)
from mpcheck import common, sarif
src = open(root + "/src/report/report.c").read()
kinds = re.findall(r'\[MP_E_\w+\] = "([a-z-]+)"', src)
kinds = [k for k in kinds if k != "none"]
bad = [k for k in kinds if k not in sarif.RULES or k not in common.SUPPRESSION_KINDS]
print("missing: %s" % bad if bad or len(kinds) < 11 else "ok")
PY
)
if [ "$out" = ok ]; then pass "$name"; else fail "$name" "$out"; fi

echo "1..$n"
echo "# $failed of $n failed; $((SECONDS - start)) s"
[ "$failed" -eq 0 ]
