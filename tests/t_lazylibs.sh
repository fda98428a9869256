#!/usr/bin/env bash
# t_lazylibs.sh - libunwind, libdw and libelf are loaded on first need
# (src/stack/lazylibs.c), not linked (TAP): no NEEDED entry for them; a
# sampled process that takes no sample and a passed-through system program
# never map them; the full mode maps them before main; a sampled block
# maps them and is reported with function names and file:line; a missing
# library gives one warning line and module+offset frames, never a crash;
# a sampled process that dies before its first sample does not dlopen in
# its signal handler.
#
# Environment: MPWRAP_ROOT, MPWRAP_LIB, MPWRAP_TFLAGS as in t_preload.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_lazylibs
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

# shellcheck disable=SC2086
(cd "$MPWRAP_ROOT" && $CC $MPWRAP_TFLAGS -o "$B/lz_libs" "$P/lz_libs.c") \
	>"$T/cc.log" 2>&1 && pass "lz_libs builds" ||
	{ fail "lz_libs builds" "$(head -c 600 "$T/cc.log")"; echo "1..$n"; exit 1; }
X=$B/lz_libs
l=$(line_of "$P/lz_libs.c" MARK-LZ-LEAK)

# has NAME FILE PATTERN...: every extended regex is in FILE.
has() {
	local name=$1 file=$2 pat miss=""
	shift 2
	for pat in "$@"; do
		grep -Eq -- "$pat" "$file" 2>/dev/null || miss="$miss
missing: $pat"
	done
	if [ -z "$miss" ]; then pass "$name"
	else fail "$name" "$miss" "(exit status $rc)" "$(head -c 900 "$file" 2>/dev/null)"; fi
}
LIBS_RE='lib(dw|elf|unwind)[.-]'

# ------------------------------------------------------ 1. not linked
needed=$(readelf -d "$MPWRAP_LIB" | grep NEEDED)
printf '%s\n' "$needed" | grep -Eq "$LIBS_RE" &&
	fail "libmpwrap.so needs none of libdw, libelf, libunwind" "$needed" ||
	pass "libmpwrap.so needs none of libdw, libelf, libunwind"

# ------------------------------------- 2. not mapped where not needed
OPTS=sample_rate=1000000000 # (no allocation of these is sampled)
prun nosample "$X" maps
[ "$rc" = 0 ] && grep -qx "mapped 0" "$RD/out" &&
	pass "sampled mode, no sample taken: none of them mapped" ||
	fail "sampled mode, no sample taken: none of them mapped" "exit $rc" "$(cat "$RD/out")"

RAWOPTS="system_passthrough=1" prun passthru grep -Ec "$LIBS_RE" /proc/self/maps
[ "$(cat "$RD/out")" = 0 ] &&
	pass "system_passthrough=1: a system program (grep) maps none of them" ||
	fail "system_passthrough=1: a system program (grep) maps none of them" "$(cat "$RD/out" "$RD/err")"

# ---------------------------------- 3. loaded where needed, as before
OPTS=
prun full "$X" maps
[ "$rc" = 0 ] && grep -Eqx "mapped [1-9][0-9]*" "$RD/out" &&
	pass "full mode: loaded before main (a stack on every malloc)" ||
	fail "full mode: loaded before main (a stack on every malloc)" "exit $rc" "$(cat "$RD/out")"

OPTS=sample_rate=1
prun sampled_leak "$X" leak
cat "$RD"/r.*.log >"$RD/all" 2>/dev/null
grep -Eqx "mapped [1-9][0-9]*" "$RD/out" &&
	pass "sampled mode: the first sample loads them" ||
	fail "sampled mode: the first sample loads them" "$(cat "$RD/out" "$RD/err")"
has "sampled mode: the sampled leak's stack has function names and file:line" "$RD/all" \
	"48 bytes in 1 block" "in make_leak .*lz_libs.c:$l" "in main .*lz_libs.c:"

# ------------------------------------------------ 4. a library missing
# an object with libdw's soname and none of its symbols, found first
mkdir -p "$T/fake"
echo 'int lz_fake;' >"$T/fake/f.c"
$CC -shared -fPIC -Wl,-soname,libdw.so.1 -o "$T/fake/libdw.so.1" "$T/fake/f.c"
cp "$T/fake/libdw.so.1" "$T/fake/libunwind.so.8"
OPTS=
mkdir -p "$T/nodw" && cp "$T/fake/libdw.so.1" "$T/nodw/"
LD_LIBRARY_PATH=$T/nodw prun nodw "$X" leak
cat "$RD"/r.*.log >"$RD/all" 2>/dev/null
[ "$rc" = 0 ] && [ "$(grep -c "cannot load libdw.so.1" "$RD/err")" = 1 ] &&
	pass "libdw unusable: one warning line, the program runs on" ||
	fail "libdw unusable: one warning line, the program runs on" "exit $rc" "$(cat "$RD/err")"
has "libdw unusable: the leak is reported, frames by module+offset" "$RD/all" \
	"48 bytes in 1 block" "\(lz_libs\+0x[0-9a-f]+\)"
grep -q "lz_libs.c:" "$RD/all" &&
	fail "libdw unusable: no file:line claimed" "$(cat "$RD/all")" ||
	pass "libdw unusable: no file:line claimed"

LD_LIBRARY_PATH=$T/fake prun nolibs "$X" leak
cat "$RD"/r.*.log >"$RD/all" 2>/dev/null
[ "$rc" = 0 ] && [ "$(grep -c "mpwrap: warning: cannot load" "$RD/err")" = 2 ] &&
	pass "libdw and libunwind unusable: two warning lines, the program runs on" ||
	fail "libdw and libunwind unusable: two warning lines, the program runs on" "exit $rc" "$(cat "$RD/err")"
has "libdw and libunwind unusable: the leak is still reported" "$RD/all" \
	"48 bytes in 1 block" "\(lz_libs\+0x[0-9a-f]+\)"

# ------------------------- 5. no dlopen in a fatal-signal handler
OPTS=sample_rate=1000000000
prun crash env LD_DEBUG=files "$X" crash
cat "$RD"/r.*.log >"$RD/all" 2>/dev/null
[ "$rc" = $((128 + 11)) ] && grep -q "dying of SIGSEGV" "$RD/all" &&
	pass "sampled mode, a crash before any sample: reported, dies of SIGSEGV" ||
	fail "sampled mode, a crash before any sample: reported, dies of SIGSEGV" "exit $rc" "$(cat "$RD/all")"
grep -Eq "file=.*$LIBS_RE" "$RD/err" &&
	fail "... and the signal handler loaded none of them" "$(grep -E "$LIBS_RE" "$RD/err" | head -3)" ||
	pass "... and the signal handler loaded none of them"
has "... its frame #0 by module+offset" "$RD/all" "#0 .*\(lz_libs\+0x[0-9a-f]+\)"

echo "1..$n"
echo "# $failed of $n failed; $((SECONDS - start)) s"
[ "$failed" = 0 ]
