#!/usr/bin/env bash
# t_preload.sh - integration tests of libmpwrap.so (LD_PRELOAD).
#
# One small buggy program per error kind and leak shape (tests/progs/pl_*),
# each built at -O0 and at -O2, run as
#   LD_PRELOAD=$MPWRAP_LIB MPWRAP_OPTIONS=json_path=DIR/r.%p.json:log_path=DIR/r.%p.log prog
# and checked on both the text log and the JSON report: kind, byte and block
# counts, and the function and file:line of the allocating (and freeing)
# site.  Expected lines come from marker comments (/* ALLOC_SITE */ ...) in
# the sources.  Prints TAP; exits non-zero if anything failed.
#
# Environment (exported by `make test`; defaulted when run by hand):
#   MPWRAP_ROOT   repository root          (default: this script's dir/..)
#   MPWRAP_LIB    libmpwrap.so to preload  (default: $MPWRAP_ROOT/libmpwrap.so)
#   MPWRAP_TFLAGS compiler flags of the -O0 build (the -O2 build swaps -O0
#                 for -O2 and drops -fno-optimize-sibling-calls)
set -u

here=$(cd "$(dirname "$0")" && pwd)
# Our runs decide what is preloaded and with which options.
TEST_NAME=t_preload
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

cat >"$T/check.py" <<'PY'
import os
exec(open(os.path.join(os.environ["PROGS"], "checklib.py")).read())


def text_line(err, pattern):
    need(any(re.search(pattern, l) for l in err["lines"]),
         "text report lacks /%s/; it has: %s" % (pattern, err["lines"]))

run_checks()
PY

# ------------------------------------------------------------ build

flags_for() {
	case $1 in
	O0) echo "$MPWRAP_TFLAGS -I$P" ;;
	O2) local f=" $MPWRAP_TFLAGS "
		f=${f// -O0 / }
		f=${f// -fno-optimize-sibling-calls / }
		echo "$f -O2 -g -fno-omit-frame-pointer -I$P" ;;
	esac
}

PROGS="pl_overflow pl_underflow pl_double_free pl_invalid_free pl_uaf
       pl_leak pl_aligned pl_semantics pl_status pl_fork pl_storm
       pl_exitpaths pl_dtor pl_dlopen pl_argcheck"

# build: every program at -O0 and -O2 into $B/NAME.O, compiled in
# parallel; one TAP line per level.
build() {
	local o f fx p errs
	for o in O0 O2; do
		f=$(flags_for "$o")
		fx=" $f "
		fx=${fx// -std=gnu11 / -std=gnu++17 }
		for p in $PROGS; do
			compile "$B/$p.$o" "$T/cc.$p.$o" $CC $f "$P/$p.c" -o "$B/$p.$o" -ldl
		done
		compile "$B/libpldl.$o.so" "$T/cc.pl_dlib.$o" \
			$CC -shared -fPIC $f "$P/pl_dlib.c" -o "$B/libpldl.$o.so"
		compile "$B/pl_cxx.$o" "$T/cc.pl_cxx.$o" $CXX $fx "$P/pl_cxx.cc" -o "$B/pl_cxx.$o"
	done
	wait
	for o in O0 O2; do
		# shellcheck disable=SC2086
		built "build the test programs at -$o" "$o" $PROGS pl_dlib pl_cxx
	done
}

# ------------------------------------------------------------ the tests

L_OVF=$(line_of "$P/pl_overflow.c" "/* ALLOC_SITE */")
L_OVF_FREE=$(line_of "$P/pl_overflow.c" "/* FREE_SITE */")
L_UNF=$(line_of "$P/pl_underflow.c" "/* ALLOC_SITE */")
L_DF_A=$(line_of "$P/pl_double_free.c" "/* ALLOC_SITE */")
L_DF_1=$(line_of "$P/pl_double_free.c" "/* FIRST_FREE */")
L_DF_2=$(line_of "$P/pl_double_free.c" "/* SECOND_FREE */")
L_IF_A=$(line_of "$P/pl_invalid_free.c" "/* ALLOC_SITE */")
L_IF_F=$(line_of "$P/pl_invalid_free.c" "/* BAD_FREE */")
L_UAF_A=$(line_of "$P/pl_uaf.c" "/* ALLOC_SITE */")
L_UAF_F=$(line_of "$P/pl_uaf.c" "/* FREE_SITE */")
L_LK1=$(line_of "$P/pl_leak.c" "/* LEAK_ONE */")
L_LKN=$(line_of "$P/pl_leak.c" "/* LEAK_MANY */")
L_ST=$(line_of "$P/pl_status.c" "/* ALLOC_SITE */")
L_CXX=$(line_of "$P/pl_cxx.cc" "/* ALLOC_SITE */")
L_EP_R=$(line_of "$P/pl_exitpaths.c" "/* SITE_RETURN */")
L_EP_E=$(line_of "$P/pl_exitpaths.c" "/* SITE_EXIT */")
L_EP_T=$(line_of "$P/pl_exitpaths.c" "/* SITE_THREAD */")
L_DL=$(line_of "$P/pl_dlib.c" "/* ALLOC_SITE */")

build
for o in O0 O2; do

	# ---- heap-buffer-overflow, slab (100) and large (5000) blocks
	for sz in 100 5000; do
		name="heap-buffer-overflow: 1 byte past a $sz-byte malloc (-$o)"
		have "pl_overflow.$o" "$name" || continue
		prun "overflow.$o.$sz" "$B/pl_overflow.$o" "$sz"
		status_is "$name" 0 || continue
		check "$name" '
J, L, pid = load()
errors_are(J, L, ["heap-buffer-overflow"])
e, t = J["errors"][0], L["errors"][0]
n = V["n"]
need((e["block_size"], e["offset"], e["count"]) == (n, n, 1),
     "JSON block_size/offset/count = %s/%s/%s, expected %d/%d/1"
     % (e["block_size"], e["offset"], e["count"], n, n))
need(int(e["address"], 16) - int(e["block_address"], 16) == n,
     "JSON address is not block_address + %d" % n)
need(e["function"] == "free" and t["where"] == "free",
     "not detected by free: %s / %s" % (e["function"], t["where"]))
text_line(t, r"^1 guard byte changed, first at offset %d \(0x[0-9a-f]+\) "
          r"of the %d-byte block at 0x[0-9a-f]+ \(0 bytes after its end\)$" % (n, n))
want = (r"0x[0-9a-f]+ is 0 bytes after the end of the %d-byte block at 0x[0-9a-f]+"
        r", allocated at alloc_buffer \(pl_overflow\.c:%d\)" % (n, V["la"]))
text_line(t, "^" + want + "$")
need(e["location"]["kind"] == "heap" and re.fullmatch(want, e["location"]["text"]),
     "JSON location %s" % e["location"])
for what, st in (("JSON alloc_stack", e["alloc_stack"]), ("text allocated by", t["alloc_stack"])):
    site(what, st, "alloc_buffer", "pl_overflow.c", V["la"])
for what, st in (("JSON stack", e["stack"]), ("text detected by", t["stack"])):
    site(what, st, "main", "pl_overflow.c", V["lf"])
need(e["free_stack"] == [] and t["free_stack"] == [], "a live block has a free stack")
' n="$sz" la="$L_OVF" lf="$L_OVF_FREE"
	done

	# ---- report lines carry the pid (the 100-byte overflow run above)
	name="every report line starts with ==<pid>== (-$o)"
	RD=$T/run/overflow.$o.100
	if [ -f "$RD/out" ]; then
		check "$name" '
J, L, pid = load()
m = re.match(r"pid (\d+)$", open(os.path.join(RD, "out")).read().strip())
must(m, "the program did not print its pid")
p = int(m.group(1))
need(pid == p and J["pid"] == p, "report file pid %d / JSON pid %s, program pid %d"
     % (pid, J["pid"], p))
need(L["pids"] == {p}, "log lines carry pids %s, expected only %d" % (L["pids"], p))
need(not L["other"], "log lines without the ==pid== prefix: %s" % L["other"][:3])
need(len(L["raw"].splitlines()) >= 10, "suspiciously short log")
'
	else
		fail "$name" "the overflow run did not happen"
	fi

	# ---- heap-buffer-underflow
	for sz in 64 5000; do
		name="heap-buffer-underflow: 1 byte before a $sz-byte malloc (-$o)"
		have "pl_underflow.$o" "$name" || continue
		prun "underflow.$o.$sz" "$B/pl_underflow.$o" "$sz"
		status_is "$name" 0 || continue
		check "$name" '
J, L, pid = load()
errors_are(J, L, ["heap-buffer-underflow"])
e, t = J["errors"][0], L["errors"][0]
n = V["n"]
need((e["block_size"], e["offset"], e["count"]) == (n, -1, 1),
     "JSON block_size/offset/count = %s/%s/%s, expected %d/-1/1"
     % (e["block_size"], e["offset"], e["count"], n))
text_line(t, r"^1 guard byte changed, first at offset -1 \(0x[0-9a-f]+\) of the "
          r"%d-byte block at 0x[0-9a-f]+ \(1 byte before its start\)$" % n)
want = (r"0x[0-9a-f]+ is 1 byte before the start of the %d-byte block at 0x[0-9a-f]+"
        r", allocated at alloc_buffer \(pl_underflow\.c:%d\)" % (n, V["la"]))
text_line(t, "^" + want + "$")
need(e["location"]["kind"] == "heap" and re.fullmatch(want, e["location"]["text"]),
     "JSON location %s" % e["location"])
for what, st in (("JSON alloc_stack", e["alloc_stack"]), ("text allocated by", t["alloc_stack"])):
    site(what, st, "alloc_buffer", "pl_underflow.c", V["la"])
' n="$sz" la="$L_UNF"
	done

	# ---- double free
	name="double-free: alloc, first-free and second-free stacks (-$o)"
	if have "pl_double_free.$o" "$name"; then
		prun "double_free.$o" "$B/pl_double_free.$o"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
errors_are(J, L, ["double-free"])
e, t = J["errors"][0], L["errors"][0]
need(e["block_size"] == 48 and e["address"] == e["block_address"],
     "JSON block_size %s, address %s, block %s" % (e["block_size"], e["address"], e["block_address"]))
need(e["alloc_stack"] and e["free_stack"], "JSON alloc_stack or free_stack empty")
text_line(t, r"^free\(0x[0-9a-f]+\): the 48-byte block at 0x[0-9a-f]+ was already freed$")
need(t.get("free_heading") == "first freed by", "text lacks a \"first freed by:\" section")
for what, st in (("JSON alloc_stack", e["alloc_stack"]), ("text allocated by", t["alloc_stack"])):
    site(what, st, "alloc_obj", "pl_double_free.c", V["la"])
for what, st in (("JSON free_stack", e["free_stack"]), ("text first freed by", t["free_stack"])):
    site(what, st, "first_free", "pl_double_free.c", V["l1"])
for what, st in (("JSON stack", e["stack"]), ("text bad call", t["stack"])):
    site(what, st, "second_free", "pl_double_free.c", V["l2"])
' la="$L_DF_A" l1="$L_DF_1" l2="$L_DF_2"
	fi

	# ---- free_stack_depth=1: a free keeps its call site only (taken
	# without a walk: the same frame #0 as the full stack), the allocation
	# its 10 frames
	name="double-free, free_stack_depth=1: free stacks of one frame, alloc stack whole (-$o)"
	if have "pl_double_free.$o" "$name"; then
		OPTS=free_stack_depth=1 prun "double_free_fsd1.$o" "$B/pl_double_free.$o"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
errors_are(J, L, ["double-free"])
e, t = J["errors"][0], L["errors"][0]
for what, st, fn, line in (("JSON free_stack", e["free_stack"], "first_free", V["l1"]),
                           ("text first freed by", t["free_stack"], "first_free", V["l1"]),
                           ("JSON stack", e["stack"], "second_free", V["l2"]),
                           ("text bad call", t["stack"], "second_free", V["l2"])):
    site(what, st, fn, "pl_double_free.c", line)
    need(len(st) == 1, "%s: %d frames, expected 1: %s" % (what, len(st), fmt_stack(st)))
for what, st in (("JSON alloc_stack", e["alloc_stack"]), ("text allocated by", t["alloc_stack"])):
    site(what, st, "alloc_obj", "pl_double_free.c", V["la"])
    need(len(st) >= 2 and any(fn_match("main", f.get("function")) for f in st),
         "%s: main missing: %s" % (what, fmt_stack(st)))
' la="$L_DF_A" l1="$L_DF_1" l2="$L_DF_2"
	fi

	# ---- invalid free: stack address, interior pointers
	for mode in stack interior interior_large freed global thread main_stack \
		other_stack wild; do
		name="invalid-free: $mode pointer, and where it points (-$o)"
		have "pl_invalid_free.$o" "$name" || continue
		prun "invalid_free.$o.$mode" "$B/pl_invalid_free.$o" "$mode"
		status_is "$name" 0 || continue
		check "$name" '
J, L, pid = load()
errors_are(J, L, ["invalid-free"])
e, t = J["errors"][0], L["errors"][0]
for what, st in (("JSON stack", e["stack"]), ("text bad call", t["stack"])):
    site(what, st, "bad_free", "pl_invalid_free.c", V["lf"])
H = r"0x[0-9a-f]+"
AT = r", allocated at alloc_block \(pl_invalid_free\.c:%d\)" % V["la"]
loc = {"stack": ("stack", r"%s is on the stack of the main thread, in the frame of main" % H),
       "thread": ("stack", r"%s is on the stack of thread \d+ \(this thread\), in the frame of thread_local_free" % H),
       "main_stack": ("stack", r"%s is on the stack of the main thread" % H),
       "other_stack": ("stack", r"%s is on the stack of another thread" % H),
       "global": ("data", r"%s is in the data segment of pl_invalid_free\.O[02] \(symbol tp_global_buf\)" % H),
       "wild": ("unknown", r"0x1000 is not a heap address \(no heap block, thread stack or module holds it\)"),
       "interior": ("heap", r"%s is 8 bytes inside the 64-byte block at %s%s" % (H, H, AT)),
       "interior_large": ("heap", r"%s is 24 bytes inside the 5000-byte block at %s%s" % (H, H, AT)),
       "freed": ("freed", r"%s is 8 bytes inside the freed 64-byte block at %s%s" % (H, H, AT))}[V["mode"]]
need(e["location"] and e["location"]["kind"] == loc[0] and re.fullmatch(loc[1], e["location"]["text"]),
     "JSON location %s, expected kind %s, /%s/" % (e["location"], loc[0], loc[1]))
text_line(t, "^" + loc[1] + "$")
if V["mode"] in ("stack", "thread", "main_stack", "other_stack", "global", "wild"):
    need(e["block_address"] is None and e["block_size"] is None and e["offset"] is None,
         "JSON names a block for a non-heap address: %s" % e)
    need(e["alloc_stack"] == [] and e["free_stack"] == [], "JSON has alloc/free stacks")
    text_line(t, r"^free\(0x[0-9a-f]+\): address was not allocated by this allocator")
    need(not t["alloc_stack"], "text has an allocated-by stack for a non-heap address")
else:
    size, off = (5000, 24) if V["mode"] == "interior_large" else (64, 8)
    need((e["block_size"], e["offset"]) == (size, off),
         "JSON block_size/offset = %s/%s, expected %d/%d" % (e["block_size"], e["offset"], size, off))
    need(int(e["address"], 16) - int(e["block_address"], 16) == off,
         "JSON address is not block_address + %d" % off)
    text_line(t, r"^free\(0x[0-9a-f]+\): address is at offset %d of the %d-byte "
              r"block at 0x[0-9a-f]+, not its start$" % (off, size))
    for what, st in (("JSON alloc_stack", e["alloc_stack"]), ("text allocated by", t["alloc_stack"])):
        site(what, st, "alloc_block", "pl_invalid_free.c", V["la"])
    need(bool(e["free_stack"]) == (V["mode"] == "freed"), "JSON free_stack %s" % fmt_stack(e["free_stack"]))
summary_is(J, L, definite=(0, 0))
' mode="$mode" la="$L_IF_A" lf="$L_IF_F"
	done

	# ---- use after free, found when quarantine (1 MiB) evicts the block
	name="use-after-free: write into a freed block, found at quarantine eviction (-$o)"
	if have "pl_uaf.$o" "$name"; then
		OPTS=quarantine_mb=1 prun "uaf.$o" "$B/pl_uaf.$o"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
errors_are(J, L, ["use-after-free"])
e, t = J["errors"][0], L["errors"][0]
need((e["block_size"], e["offset"], e["count"]) == (200, 10, 1),
     "JSON block_size/offset/count = %s/%s/%s, expected 200/10/1"
     % (e["block_size"], e["offset"], e["count"]))
need(e["function"] == "quarantine eviction" and t["where"] == "quarantine eviction",
     "not found by the quarantine eviction but by %s / %s" % (e["function"], t["where"]))
text_line(t, r"^1 byte written after free, first at offset 10 \(0x[0-9a-f]+\) "
          r"of the 200-byte block at 0x[0-9a-f]+$")
for what, st in (("JSON alloc_stack", e["alloc_stack"]), ("text allocated by", t["alloc_stack"])):
    site(what, st, "alloc_victim", "pl_uaf.c", V["la"])
for what, st in (("JSON free_stack", e["free_stack"]), ("text freed by", t["free_stack"])):
    site(what, st, "free_victim", "pl_uaf.c", V["lf"])
' la="$L_UAF_A" lf="$L_UAF_F"
	fi

	# ---- definite leaks with exact bytes and blocks
	name="definite leaks: 123 bytes in 1 block + 3000 bytes in 3 blocks (-$o)"
	if have "pl_leak.$o" "$name"; then
		prun "leak.$o" "$B/pl_leak.$o"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
errors_are(J, L, [])
summary_is(J, L, definite=(3123, 4), indirect=(0, 0), possible=(0, 0))
leak_group(J, L, "definite", "make_leak", "pl_leak.c", V["l1"], 123, 1)
leak_group(J, L, "definite", "make_many", "pl_leak.c", V["ln"], 3000, 3)
' l1="$L_LK1" ln="$L_LKN"
	fi

	# ---- aligned allocations
	name="posix_memalign/aligned_alloc/memalign/valloc/pvalloc, alignment 16..4096 (-$o)"
	if have "pl_aligned.$o" "$name"; then
		prun "aligned.$o" "$B/pl_aligned.$o"
		if status_is "$name" 0; then
			check "$name" '
J, L, pid = load()
out = open(os.path.join(RD, "out")).read()
need("aligned: 116 allocations, 0 failures" in out, "program says: %s" % out[-600:])
errors_are(J, L, [])
summary_is(J, L, definite=(0, 0), indirect=(0, 0), possible=(0, 0))
'
		fi
	fi

	# ---- realloc / calloc / huge / errno semantics
	if have "pl_semantics.$o" "malloc-family semantics (-$o)"; then
		prun "semantics.$o" "$B/pl_semantics.$o"
		for c in errno_kept malloc_zero realloc_null realloc_zero realloc_grow \
			realloc_shrink realloc_huge calloc_zeroed calloc_overflow \
			calloc_overflow2 malloc_huge malloc_2e60 reallocarray_overflow; do
			name="semantics: $c (-$o)"
			if grep -qx "ok $c" "$RD/out"; then
				pass "$name"
			else
				fail "$name" "$(grep -E "^(FAIL )?$c" "$RD/out" || echo "no line for $c (exit status $rc)")" \
					"stderr: $(head -c 300 "$RD/err")"
			fi
		done
		name="semantics: exits 0, only the argument errors, nothing lost (-$o)"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
errors_are(J, L, ["realloc-size-zero", "calloc-overflow", "calloc-overflow",
                  "allocation-size-too-big", "calloc-overflow"])
summary_is(J, L, definite=(0, 0), indirect=(0, 0), possible=(0, 0))
'
	fi

	# ---- argument checks: the report, and glibc's result and errno kept
	for mode in alignment toobig limit overflow realloc0 realloc0_off; do
		name="argument checks: $mode (-$o)"
		have "pl_argcheck.$o" "$name" || continue
		case $mode in
		limit) OPTS=max_allocation_size=1000000 ;;
		realloc0_off) OPTS=realloc_size_zero=0 ;;
		*) OPTS= ;;
		esac
		prun "argcheck.$o.$mode" "$B/pl_argcheck.$o" "${mode%_off}"
		OPTS=
		status_is "$name" 0 || continue
		check "$name" '
J, L, pid = load()
out = open(os.path.join(RD, "out")).read()
need("0 failures" in out and "FAIL" not in out, "glibc semantics broken: %s" % out)
H = r"0x[0-9a-f]+"
want = {
  "alignment": [("invalid-alignment", "posix_memalign", "PM_24",
                 r"posix_memalign\(alignment 24, size 100\): alignment is not a power of two"),
                ("invalid-alignment", "posix_memalign", "PM_4",
                 r"posix_memalign\(alignment 4, size 100\): alignment is not a multiple of sizeof\(void \*\) \(8\)"),
                ("invalid-alignment", "aligned_alloc", "AA_3",
                 r"aligned_alloc\(alignment 3, size 100\): alignment is not a power of two"),
                ("invalid-alignment", "memalign", "MA_48",
                 r"memalign\(alignment 48, size 100\): alignment is not a power of two")],
  "toobig": [("allocation-size-too-big", "malloc", "TB_MALLOC",
              r"malloc\(size 18446744073709547520\): requested size 0xfffffffffffff000 exceeds "
              r"the maximum allocation size 0x7fffffffffffffff \(a negative size: -4096\)"),
             ("allocation-size-too-big", "calloc", "TB_CALLOC",
              r"calloc\(size 18446744073709551615\): .*\(a negative size: -1\)"),
             ("allocation-size-too-big", "realloc", "TB_REALLOC",
              r"realloc\(size 18446744073709551615\): .*\(a negative size: -1\)"),
             ("allocation-size-too-big", "posix_memalign", "TB_PM",
              r"posix_memalign\(size 9223372036854775808\): requested size 0x8000000000000000 .*")],
  "limit": [("allocation-size-too-big", "malloc", "LIMIT",
             r"malloc\(size 2000000\): requested size 0x1e8480 exceeds the maximum "
             r"allocation size 0xf4240 \(max_allocation_size\)")],
  "overflow": [("calloc-overflow", "calloc", "OV_CALLOC",
                r"calloc\(nmemb 9223372036854775809, size 2\): nmemb \* size overflows size_t"),
               ("calloc-overflow", "reallocarray", "OV_REALLOCARRAY",
                r"reallocarray\(nmemb 4611686018427387903, size 8\): nmemb \* size overflows size_t")],
  "realloc0": [("realloc-size-zero", "realloc", "R0_CALL",
                r"realloc\(%s, 0\): size 0 frees the 40-byte block at %s and returns NULL" % (H, H))],
  "realloc0_off": [],
}[V["mode"]]
errors_are(J, L, [w[0] for w in want])
src = open(os.path.join(os.environ["PROGS"], "pl_argcheck.c")).read().splitlines()
fn = {"PM": "alignment", "AA": "alignment", "MA": "alignment", "TB": "toobig",
      "LI": "limit", "OV": "overflow", "R0": "realloc0"}
for i, (kind, where, marker, line_re) in enumerate(want):
    if i >= len(J["errors"]) or i >= len(L["errors"]):
        break
    e, t = J["errors"][i], L["errors"][i]
    line = [n + 1 for n, l in enumerate(src) if "/* %s */" % marker in l][0]
    need(e["function"] == where and t["where"] == where,
         "%s: reported for %s / %s" % (marker, e["function"], t["where"]))
    need(any(re.fullmatch(line_re, l) for l in t["lines"]),
         "%s: text lacks /%s/; has %s" % (marker, line_re, t["lines"]))
    need(re.fullmatch(line_re, e["description"] or ""),
         "%s: JSON description %r" % (marker, e["description"]))
    for what, st in (("JSON stack", e["stack"]), ("text bad call", t["stack"])):
        site("%s %s" % (marker, what), st, fn[marker[:2]], "pl_argcheck.c", line)
    if kind == "realloc-size-zero":
        la = [n + 1 for n, l in enumerate(src) if "/* R0_ALLOC */" in l][0]
        for what, st in (("JSON alloc_stack", e["alloc_stack"]), ("text allocated by", t["alloc_stack"])):
            site(what, st, "alloc40", "pl_argcheck.c", la)
    else:
        need(e["address"] is None and e["block_address"] is None and e["alloc_stack"] == [],
             "%s: an argument error names an address or block: %s" % (marker, e))
    if kind == "calloc-overflow":
        need(set(e["arguments"]) == {"nmemb", "size"}, "JSON arguments %s" % e.get("arguments"))
summary_is(J, L, definite=(0, 0))
' mode="$mode"
	done

	# ---- the program's own stdout, stderr and exit status are kept
	name="stdout, stderr and exit status 7 are the same as without the preload (-$o)"
	if have "pl_status.$o" "$name"; then
		(cd "$T" && timeout 30 "$B/pl_status.$o" >"$T/plain.out" 2>"$T/plain.err")
		prc=$?
		(cd "$T" && timeout 30 "$B/pl_status.$o" leak >"$T/plainleak.out" 2>/dev/null)
		prun "status.$o" "$B/pl_status.$o"
		if [ "$prc" != 7 ]; then
			fail "$name" "the program itself exits $prc, not 7"
		elif status_is "$name" 7; then
			if cmp -s "$T/plain.out" "$RD/out" && cmp -s "$T/plain.err" "$RD/err"; then
				check "$name" 'J, L, pid = load(); errors_are(J, L, [])'
			else
				fail "$name" "stdout: $(diff "$T/plain.out" "$RD/out" | head -5)" \
					"stderr: $(diff "$T/plain.err" "$RD/err" | head -5)"
			fi
		fi

		name="exitcode=42: a leaking program exits 42, output intact (-$o)"
		OPTS=exitcode=42 prun "exitcode_leak.$o" "$B/pl_status.$o" leak
		if status_is "$name" 42; then
			if cmp -s "$T/plainleak.out" "$RD/out"; then
				check "$name" '
J, L, pid = load()
summary_is(J, L, definite=(64, 1))
leak_group(J, L, "definite", "leak_one", "pl_status.c", V["la"], 64, 1)
' la="$L_ST"
			else
				fail "$name" "stdout differs: $(diff "$T/plainleak.out" "$RD/out" | head -5)"
			fi
		fi

		name="exitcode=42: a clean program keeps its status 7 (-$o)"
		OPTS=exitcode=42 prun "exitcode_clean.$o" "$B/pl_status.$o"
		status_is "$name" 7 && if cmp -s "$T/plain.out" "$RD/out"; then
			pass "$name"
		else
			fail "$name" "stdout differs: $(diff "$T/plain.out" "$RD/out" | head -5)"
		fi

		# ---- bad options: one warning line each, the program runs normally
		name="bad MPWRAP_OPTIONS: one warning per bad key, normal output and status (-$o)"
		RAWOPTS="bogus_key=1:verbosity=banana:exitcode=999:json_path=@RD@/r.%p.json:log_path=@RD@/r.%p.log" \
			prun "badopts.$o" "$B/pl_status.$o"
		why=""
		[ "$rc" = 7 ] || why="exit status $rc, expected 7"
		cmp -s "$T/plain.out" "$RD/out" || why="$why; stdout differs"
		for key in bogus_key verbosity exitcode; do
			c=$(grep -c "$key" "$RD/err")
			[ "$c" = 1 ] || why="$why; $c stderr lines name $key, expected 1"
			grep "$key" "$RD/err" | grep -q '^mpwrap: warning' ||
				why="$why; the $key line is not an mpwrap warning"
		done
		other=$(grep -v -e bogus_key -e verbosity -e exitcode "$RD/err")
		[ "$other" = "a line on stderr" ] ||
			why="$why; other stderr lines: $(printf '%s' "$other" | head -c 300)"
		ls "$RD"/r.*.json >/dev/null 2>&1 || why="$why; the good json_path was not honoured"
		if [ -z "$why" ]; then pass "$name"
		else fail "$name" "$why" "stderr: $(head -c 500 "$RD/err")"; fi
		RAWOPTS=
	fi

	# ---- fork from a multi-threaded program
	name="fork from 5 threads: 20 children each write their own report, no hang (-$o)"
	if have "pl_fork.$o" "$name"; then
		prun "fork.$o" "$B/pl_fork.$o"
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			fail "$name" "timed out (hang) after 30 s" "$(tail -3 "$RD/out")"
		elif status_is "$name" 0; then
			check "$name" '
out = open(os.path.join(RD, "out")).read()
kids = [int(x) for x in re.findall(r"^child (\d+)$", out, re.M)]
parent = re.findall(r"^parent (\d+)$", out, re.M)
need(len(kids) == 20 and len(set(kids)) == 20, "program printed %d child pids" % len(kids))
must(len(parent) == 1, "no parent pid printed")
for k in kids:
    try:
        J, L, pid = load(k)
    except Stop:
        continue
    need(J["pid"] == k, "r.%d.json says pid %s" % (k, J["pid"]))
    need(L["pids"] == {k}, "r.%d.log has lines of pids %s" % (k, L["pids"]))
    need(not L["other"], "r.%d.log has lines without ==%d==" % (k, k))
    need(J["summary"]["errors"] == 0 and L["error_summary"] == 0,
         "child %d reports errors" % k)
J, L, pid = load(int(parent[0]))
need(J["summary"]["errors"] == 0, "the parent reports errors")
reports = glob.glob(os.path.join(RD, "r.*.json"))
need(len(reports) == 21, "%d JSON reports, expected 21" % len(reports))
'
		fi
	fi

	# ---- thread storm
	name="thread storm: 32 threads x 20000 malloc/free, 0 errors (-$o)"
	if have "pl_storm.$o" "$name"; then
		prun "storm.$o" "$B/pl_storm.$o"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
need("0 bad" in open(os.path.join(RD, "out")).read(), "the program saw corrupted data")
errors_are(J, L, [])
st = J["stats"]
need(st["allocations"] >= 640000 and st["frees"] >= 640000,
     "stats count %s allocations and %s frees, expected >= 640000"
     % (st["allocations"], st["frees"]))
'
	fi

	# ---- C++
	name="C++: new/delete, containers, one leaked new int[10] named leaky_function() (-$o)"
	if have "pl_cxx.$o" "$name"; then
		prun "cxx.$o" "$B/pl_cxx.$o"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
errors_are(J, L, [])
summary_is(J, L, definite=(40, 1), indirect=(0, 0), possible=(0, 0))
leaky = lambda f: "leaky" in f and not f.startswith("_Z")
leak_group(J, L, "definite", leaky, "pl_cxx.cc", V["la"], 40, 1, idx=None)
g = [g for g in J["leaks"] if g["kind"] == "definite"]
if g:
    names = [f["function"] for f in g[0]["stack"]]
    need("leaky_function()" in names, "no frame named leaky_function(): %s" % names)
' la="$L_CXX"
	fi

	# ---- exit paths
	for mode in return exit thread; do
		case $mode in
		return) want=0 sz=77 fn=leak_on_return ln=$L_EP_R
			what="return from main" ;;
		exit) want=3 sz=88 fn=leak_before_exit ln=$L_EP_E
			what="exit(3) from a nested function" ;;
		thread) want=0 sz=99 fn=leak_with_thread ln=$L_EP_T
			what="return while a second thread runs" ;;
		esac
		name="leak report at exit: $what (-$o)"
		have "pl_exitpaths.$o" "$name" || continue
		prun "exitpaths.$o.$mode" "$B/pl_exitpaths.$o" "$mode"
		status_is "$name" "$want" || continue
		check "$name" '
J, L, pid = load()
errors_are(J, L, [])
summary_is(J, L, definite=(V["sz"], 1), indirect=(0, 0))
leak_group(J, L, "definite", V["fn"], "pl_exitpaths.c", V["ln"], V["sz"], 1)
' sz="$sz" fn="$fn" ln="$ln"
	done

	# ---- destructor frees everything before the report
	name="blocks freed in a destructor: 0 definite leaks (-$o)"
	if have "pl_dtor.$o" "$name"; then
		prun "dtor.$o" "$B/pl_dtor.$o"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
need("destructor freed 5 blocks" in open(os.path.join(RD, "out")).read(),
     "the destructor did not run (or its output was lost)")
errors_are(J, L, [])
summary_is(J, L, definite=(0, 0), indirect=(0, 0), possible=(0, 0))
no_group(J, L, "make_blocks")
'
	fi

	# ---- dlopen / dlclose
	name="leak from a dlclose'd library names its function and line (-$o)"
	if have "pl_dlopen.$o" "$name" && have "libpldl.$o.so" "$name"; then
		prun "dlopen.$o" "$B/pl_dlopen.$o" "$B/libpldl.$o.so"
		status_is "$name" 0 && check "$name" '
J, L, pid = load()
need(open(os.path.join(RD, "out")).read().strip() == "unloaded",
     "the library was not unloaded by dlclose")
errors_are(J, L, [])
summary_is(J, L, definite=(55, 1), indirect=(0, 0))
leak_group(J, L, "definite", "dl_leaky_alloc", "pl_dlib.c", V["la"], 55, 1)
g = [g for g in J["leaks"] if g["kind"] == "definite"]
if g and g[0]["stack"]:
    need((g[0]["stack"][0]["module"] or "").endswith("libpldl.%s.so" % V["o"]),
         "frame #0 module is %s" % g[0]["stack"][0]["module"])
' la="$L_DL" o="$o"
	fi
done

echo "1..$n"
echo "# $failed of $n failed; $((SECONDS - start)) s"
[ "$failed" -eq 0 ]
