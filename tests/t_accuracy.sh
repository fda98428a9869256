#!/usr/bin/env bash
# t_accuracy.sh - the last mile of accuracy against memcheck and
# LeakSanitizer (issue 29): one error per write after free, a poison that
# read-modify-writes change, LeakSanitizer's flags and hooks, and memcheck
# 3.22's argument diagnostics.  Each case names memcheck's (or LSan's)
# verdict on the same program in a comment; tests/progs/ac_*.
#
# Environment (exported by `make test`; defaulted when run by hand):
#   MPWRAP_ROOT, MPWRAP_LIB, MPWRAP_TFLAGS as in t_preload.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_accuracy
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

cat >"$T/check.py" <<'PY'
import os
exec(open(os.path.join(os.environ["PROGS"], "checklib.py")).read())

def errs(J, kind):
    return [e for e in J["errors"] if e["kind"] == kind]

run_checks()
PY

unset LSAN_OPTIONS
PROGS="ac_uaf ac_poison ac_lsan"
for p in $PROGS; do
	# shellcheck disable=SC2086
	compile "$B/$p" "$T/cc.$p.c" $CC $MPWRAP_TFLAGS -I"$P" "$P/$p.c" -o "$B/$p" -lm
done
# shellcheck disable=SC2086
compile "$B/ac_lsan_def" "$T/cc.ac_lsan_def.c" $CC $MPWRAP_TFLAGS -I"$P" -rdynamic \
	'-DDEFAULT_OPTIONS="use_globals=0"' "$P/ac_lsan.c" -o "$B/ac_lsan_def"
wait
# shellcheck disable=SC2086
built "build the test programs" c $PROGS ac_lsan_def

# ------------------------------------------------ one error per write after free
# uaf CASE PYEXPR: the exit check reports use-after-free errors whose
# (offset, count) list is PYEXPR, in JSON and in the text log.
uaf() {
	local c=$1 want=$2 name="write after free ($1): errors at (offset, bytes) $2"
	have ac_uaf "$name" || return
	prun "uaf.$c" "$B/ac_uaf" "$c"
	status_is "$name" 0 || return
	check "$name" '
J, L, pid = load()
want = eval(V["want"])
got = [(e["offset"], e["count"]) for e in J["errors"]]
need(got == want, "JSON errors (offset, count) are %s, expected %s" % (got, want))
errors_are(J, L, ["use-after-free"] * len(want))
for (o, n), t in zip(want, L["errors"]):
    need(any(re.search(r"^%d bytes? written after free, first at offset %d \(" % (n, o), l)
             for l in t["lines"]), "text lacks %d bytes at offset %d: %s" % (n, o, t["lines"]))
    site("alloc stack", t["alloc_stack"], "alloc_victim", "ac_uaf.c", V["la"])
' want="$want" la="$(line_of "$P/ac_uaf.c" "/* ALLOC_SITE */")"
}
# memcheck 3.19: two "Invalid write of size 1" (5 bytes inside, 0 bytes after)
uaf two "[(5, 1), (10, 1)]"
# memcheck: one "Invalid write of size 4"
uaf run "[(2, 4)]"
# memcheck: "Invalid read of size 8" + "Invalid write of size 8" (0xFD: none)
uaf double "[(0, 8)]"
# memcheck: read + write of size 4 each
uaf float "[(0, 4)]"
uaf int "[(0, 1)]"
# memcheck: read + write of size 1 (0xFD: none, its bit 0 is set)
uaf flag "[(0, 1)]"
# memcheck: 12 errors from 1 context (one shown); mpwrap: 8, the 8th with the rest
uaf many "[(0, 1), (4, 1), (8, 1), (12, 1), (16, 1), (20, 1), (24, 1), (28, 5)]"

# ------------------------------------------------ the poison itself
name="poison: only top-bit sets and bit-0 clears of 273 read-modify-writes leave it unchanged; no 8-byte load of it is a canonical address"
if have ac_poison "$name"; then
	prun poison "$B/ac_poison" live
	if out=$(grep -E '^[0-9a-f]{16}: ' "$RD/out") &&
		printf '%s\n' "$out" | grep -qE ': 30/273 unchanged; canonical 0/8; missed:' &&
		[ -z "$(printf '%s\n' "$out" | sed 's/.*missed://' | tr ' ' '\n' |
			grep . | grep -vE ':(\|=top|&=~1)$')" ]; then
		pass "$name"
	else
		fail "$name" "$(cat "$RD/out")"
	fi
fi

# ------------------------------------------------ LeakSanitizer's flags and hooks
# lsan BIN CASE LSAN_OPTIONS MPWRAP_OPTS WANT: WANT is the definitely lost
# bytes (1337: the block is reported lost; 0: reachable), or "unscanned:WHY"
# (no leak check ran: the clean line names WHY).  The LSan column is what
# gcc -fsanitize=leak (LSan of gcc 12) reports on the same source.
lsan() {
	local bin=$1 c=$2 lo=$3 mo=$4 want=$5
	local name="LSan flags: $bin $c, LSAN_OPTIONS='$lo' MPWRAP_OPTIONS='$mo': $want"
	have "$bin" "$name" || return
	LSAN_OPTIONS=$lo OPTS=$mo prun "lsan.$bin.$c" "$B/$bin" "$c"
	status_is "$name" 0 || return
	check "$name" '
J, L, pid = load()
w = V["want"]
if str(w).startswith("unscanned:"):
    want = "mpwrap: no errors (no leak check: %s)" % w.split(":", 1)[1]
    need(want in L["raw"], "log lacks %r: %s" % (want, L["raw"][-400:]))
    need("no leaks" not in L["raw"] and not J["leaks"],
         "a leak verdict without a leak check: %s" % L["raw"][-400:])
else:
    summary_is(J, L, definite=(w, 1 if w else 0))
    if w:
        leak_group(J, L, "definite", "alloc_victim", "ac_lsan.c", V["la"], 1337, 1)
' want="$want" la="$(line_of "$P/ac_lsan.c" "/* ALLOC_SITE */")"
}
for c in globals stacks tls region; do
	lsan ac_lsan $c "" "" 0                      # LSan: no leak
done
lsan ac_lsan unreg "" "" 1337                    # LSan: Direct leak of 1337 (was: reachable, anonymous memory)
lsan ac_lsan exit "" "" 1337                     # LSan: Direct leak of 1337
lsan ac_lsan globals use_globals=0 "" 1337       # LSan: Direct leak
lsan ac_lsan stacks use_stacks=0:use_registers=0 "" 1337   # LSan: Direct leak
lsan ac_lsan tls use_tls=0 "" 1337               # LSan: Direct leak
lsan ac_lsan region use_root_regions=0 "" 1337   # LSan: Direct leak
lsan ac_lsan globals use_globals=false "" 1337   # LSan's booleans say true/false
lsan ac_lsan globals "" use_globals=0 1337       # the same flag as our option
lsan ac_lsan exit leak_check_at_exit=0 "" unscanned:leak_check_at_exit=0     # LSan: no leak report
lsan ac_lsan globals leak_check_at_exit=0:use_globals=0 "" 1337              # LSan: the explicit check still reports
lsan ac_lsan globals detect_leaks=0:use_globals=0 "" unscanned:detect_leaks=0 # LSan: nothing
lsan ac_lsan_def globals "" "" 1337              # __lsan_default_options="use_globals=0"; LSan: Direct leak
lsan ac_lsan_def globals use_globals=1 "" 0      # LSAN_OPTIONS wins over it; LSan: no leak
lsan ac_lsan_def globals use_globals=0 use_globals=1 0   # MPWRAP_OPTIONS wins over both

echo "1..$n"
[ "$failed" -eq 0 ]
