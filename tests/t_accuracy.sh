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
PROGS="ac_uaf ac_poison ac_lsan ac_args"
for p in $PROGS; do
	# shellcheck disable=SC2086
	compile "$B/$p" "$T/cc.$p.c" $CC $MPWRAP_TFLAGS -I"$P" "$P/$p.c" -o "$B/$p" -lm
done
# shellcheck disable=SC2086
compile "$B/ac_lsan_def" "$T/cc.ac_lsan_def.c" $CC $MPWRAP_TFLAGS -I"$P" -rdynamic \
	'-DDEFAULT_OPTIONS="use_globals=0"' "$P/ac_lsan.c" -o "$B/ac_lsan_def"
fx=" $MPWRAP_TFLAGS "
fx=${fx// -std=gnu11 / -std=gnu++17 }
# shellcheck disable=SC2086
compile "$B/ac_args_cxx" "$T/cc.ac_args_cxx.c" $CXX $fx -I"$P" "$P/ac_args_cxx.cc" -o "$B/ac_args_cxx"
wait
# shellcheck disable=SC2086
built "build the test programs" c $PROGS ac_lsan_def ac_args_cxx

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

# ------------------------------------------------ argument checks (memcheck 3.22)
# args BIN CASE OPTS OUT WANT: the program prints OUT (its own outcome,
# glibc's or libstdc++'s, as without the preload) and the errors are WANT:
# a python list of (kind, function, marker of the call's line, text regex).
args() {
	local bin=$1 c=$2 opts=$3 out=$4 want=$5
	local name="argument checks: $bin $c${opts:+ ($opts)}"
	have "$bin" "$name" || return
	OPTS=$opts prun "args.$bin.$c.$opts" "$B/$bin" "$c"
	status_is "$name" 0 || return
	check "$name" '
J, L, pid = load()
out = open(os.path.join(RD, "out")).read()
need(out == V["out"].replace("|", "\n"), "program printed %r, expected %r" % (out, V["out"]))
want = eval(V["want"])
errors_are(J, L, [w[0] for w in want])
src = open(os.path.join(os.environ["PROGS"], V["src"])).read().splitlines()
for (kind, fn, marker, text), e, t in zip(want, J["errors"], L["errors"]):
    line = [n + 1 for n, l in enumerate(src) if "/* %s */" % marker in l][0]
    need(e["function"] == fn and t["where"] == fn, "%s: reported for %s / %s" % (marker, e["function"], t["where"]))
    need(any(re.fullmatch(text, l) for l in t["lines"]), "%s: text lacks /%s/: %s" % (marker, text, t["lines"]))
    site("%s bad call" % marker, t["stack"], "main", V["src"], line)
' out="$out" want="$want" src="$6"
}
# memcheck 3.19: nothing; 3.22: "Invalid size value: 100 alignment value: 64
# (size should be a multiple of alignment)"
args ac_args aa_mult "" "ok 1 0|" '[("invalid-alignment", "aligned_alloc", "AA_MULT",
  r"aligned_alloc\(alignment 64, size 100\): size is not a multiple of the alignment")]' ac_args.c
# memcheck 3.19: nothing; 3.22: "Unsafe allocation with size of zero is
# implementation-defined" for each
Z="unsafe allocation with size of zero \\(its result is implementation-defined\\)"
args ac_args zero "" "ok pm 0 1 0|ok ma 1 0|ok aa 1 0|" "[
  ('alloc-size-zero', 'posix_memalign', 'Z_PM', r'posix_memalign\(alignment 64, size 0\): $Z'),
  ('alloc-size-zero', 'memalign', 'Z_MA', r'memalign\(alignment 256, size 0\): $Z'),
  ('alloc-size-zero', 'aligned_alloc', 'Z_AA', r'aligned_alloc\(alignment 64, size 0\): $Z')]" ac_args.c
args ac_args zero alloc_size_zero=0 "ok pm 0 1 0|ok ma 1 0|ok aa 1 0|" "[]" ac_args.c
# memcheck 3.19: nothing; 3.21+: "realloc() with size 0" by default
args ac_args realloc0 "" "ok 0 0|" '[("realloc-size-zero", "realloc", "R0_CALL",
  r"realloc\(0x[0-9a-f]+, 0\): size 0 frees the 40-byte block at 0x[0-9a-f]+ and returns NULL")]' ac_args.c
args ac_args realloc0 realloc_size_zero=0 "ok 0 0|" "[]" ac_args.c
# memcheck 3.19: "Argument 'size' of function calloc has a fishy (possibly
# negative) value: -1" (and its calloc returns NULL, ENOMEM: glibc's does not)
args ac_args calloc_neg "" "ok 1 0|" '[("fishy-value", "calloc", "CN_CALL",
  r"calloc\(nmemb 0, size 18446744073709551615\): argument .size. has a fishy \(possibly negative\) value: -1")]' ac_args.c
# memcheck 3.19: nothing (and its aligned new of alignment 0 succeeds, where
# libstdc++ throws); 3.22: "Invalid alignment value: 0 (should be non-zero
# and a power of 2)" for each
args ac_args_cxx new0 "" "bad_alloc|nothrow null|" '[
  ("invalid-alignment", "aligned operator new", "NEW0", r"aligned operator new\(alignment 0, size 64\): alignment is not a power of two"),
  ("invalid-alignment", "aligned operator new", "NEW0_NT", r"aligned operator new\(alignment 0, size 64\): alignment is not a power of two")]' ac_args_cxx.cc
# memcheck 3.19: nothing; 3.22: invalid alignment, then the alignment mismatch
args ac_args_cxx del_bad "" "deleted|" '[
  ("invalid-alignment", "aligned operator delete", "DB_DELETE", r"aligned operator delete\(alignment 48, size 64\): alignment is not a power of two"),
  ("new-delete-type-mismatch", "aligned operator delete", "DB_DELETE", r".*allocated by aligned operator new with alignment 64, freed with alignment 48")]' ac_args_cxx.cc
# memcheck 3.19: nothing; 3.22: "Invalid alignment value: 48 (should be a power of 2)"
args ac_args_cxx del_null "" "deleted|" '[
  ("invalid-alignment", "aligned operator delete", "DN_DELETE", r"aligned operator delete\(alignment 48\): alignment is not a power of two")]' ac_args_cxx.cc

echo "1..$n"
[ "$failed" -eq 0 ]
