#!/usr/bin/env bash
# t_locate.sh - from late damage to the bad access: targeted guard pages
# (guard_page_sites) and mpcheck --locate.
#
# A small "test suite" (a shell script running tests/progs/lc_damage.c three
# times, only the middle process guilty) runs under mpcheck, which locates
# by default (--locate forces it, --no-locate turns it off): an
# overflow by 1 of a 10, 16 and 5000-byte block (the last a large block),
# an underflow and a write after free, each found late (at free or exit).
# mpcheck must rerun that one process, once, with a guard page at the
# block's allocation site, and put the access (write_at, its line) into the
# text summary, the JSON finding and the SARIF location; the gate stays the
# original run's.  A program that does not repeat its bug (flaky) and one
# whose rerun hangs are reported honestly; a program that read a pipe is
# not rerun by default; the time budget is kept.  Not located, the SARIF
# result sits at the allocation, never at the free that found the damage.  A read after free, invisible to
# guard bytes and poison, is caught with the option the late reports print.
# The overflow is built with gcc -O0 and with clang (else gcc) -O2.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_locate
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"
MPCHECK=$MPWRAP_ROOT/scripts/mpcheck
export MPWRAP_LIB

SRC=$P/lc_damage.c
# shellcheck disable=SC2086
$CC $MPWRAP_TFLAGS -I"$P" "$SRC" -o "$B/lc.O0" || { fail "build lc_damage"; echo "1..$n"; exit 1; }
CC2=gcc
command -v clang >/dev/null 2>&1 && CC2=clang
$CC2 -O2 -g -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror -I"$P" \
	"$SRC" -o "$B/lc.O2" || { fail "build lc_damage with $CC2 -O2"; echo "1..$n"; exit 1; }

ACCESS_WRITE=$(line_of "$SRC" "ACCESS_WRITE")
ACCESS_READ=$(line_of "$SRC" "ACCESS_READ")
ALLOC_SITE=$(line_of "$SRC" "ALLOC_SITE")

# the suite: the guilty process between two clean ones
cat >"$T/suite.sh" <<'EOF'
#!/bin/sh
"$LC" clean || exit 1
"$LC" "$@"
"$LC" clean
EOF

cat >"$T/check.py" <<'PY'
import json, re, sys
case, err_path, json_path, sarif_path, kind, want, line, call = sys.argv[1:9]
line = int(line)
problems = []
def need(cond, msg):
    if not cond:
        problems.append(msg)
err = open(err_path).read()
J = json.load(open(json_path))
S = json.load(open(sarif_path))
guilty = [p for p in J["processes"] if p.get("argv", [None, None])[1:2] == [call]]
need(len(guilty) == 1, "one process ran '%s': %s" % (call, [p.get("argv") for p in J["processes"]]))
pid = guilty[0]["pid"] if guilty else -1
need(all("environ" not in p for p in J["processes"]), "the environment is left out of --json")
need(all(p.get("cwd") and p.get("executable") for p in J["processes"]), "processes record cwd and executable")
need("to find the access: mpcheck --locate, or rerun with MPWRAP_OPTIONS=guard_page_sites=" in err,
     "the late report ends with how to locate the access")
F = [f for f in J["findings"] if f["kind"] == kind]
need(len(F) == 1, "one %s finding: %s" % (kind, [f["kind"] for f in J["findings"]]))
f = F[0] if F else {}
loc = f.get("located", {})
need(J["summary"]["gate"] == "FAIL", "the gate is the original run's: %s" % J["summary"]["gate"])
need(f.get("guard_page_site"), "the finding names its site")
res = [r for r in S["runs"][0]["results"] if r["ruleId"] == kind]
need(len(res) == 1, "one SARIF result for %s" % kind)
r = res[0] if res else {"locations": [{}], "message": {"text": ""}}
if want == "located":
    need(loc.get("status") == "located", "located: %s" % loc)
    st = loc.get("stack", [{}])
    need(st and st[0].get("function") == "write_at" and st[0].get("line") == line,
         "JSON access frame #0 is write_at:%d: %s" % (line, st[:1]))
    need(len(st) > 1 and st[1].get("function") == "main", "JSON access frame #1 is main: %s" % st[1:2])
    need(loc.get("access") == "write", "the access is a write: %s" % loc.get("access"))
    need(loc.get("pid") not in (None, pid), "rerun pid differs from the original")
    need(J["summary"]["located"] == 1 and J["summary"]["not_located"] == 0, "summary counts: %s" % J["summary"])
    # text: the guilty pid, the access line, the access stack; one rerun
    m = re.findall(r"^mpcheck: pid (\d+) \(([^)]*)\): %s located by a rerun with a guard page "
                   r"\(pid (\d+)\): write at offset (-?\d+) " % kind, err, re.M)
    need(len(m) == 1, "one 'located by a rerun' line for the guilty pid: %s" % m)
    if m:
        need(int(m[0][0]) == pid, "text names the guilty pid %d: %s" % (pid, m[0][0]))
    fr = re.search(r"located by a rerun.*\nmpcheck:     #0 write_at in \S*lc_damage\.c:(\d+) ", err)
    need(fr and int(fr.group(1)) == line, "text frame #0 write_at lc_damage.c:%d" % line)
    need(err.count("located by a rerun") == 1, "exactly one rerun reported")
    phys = r["locations"][0].get("physicalLocation", {})
    need(phys.get("region", {}).get("startLine") == line and
         phys.get("artifactLocation", {}).get("uri", "").endswith("lc_damage.c"),
         "SARIF location is the access line: %s" % phys)
    need(r["locations"][0].get("logicalLocations", [{}])[0].get("fullyQualifiedName") == "write_at",
         "SARIF location names write_at")
    need(r.get("codeFlows", [{}])[0].get("message", {}).get("text") == "bad access (rerun with a guard page)",
         "SARIF code flow of the access first")
    need(r["message"]["text"].startswith(kind + ": write at offset"), "SARIF message: %s" % r["message"]["text"][:120])
else:
    need(loc.get("status") == "not reproduced", "not reproduced: %s" % loc)
    need(want in loc.get("reason", ""), "reason says '%s': %s" % (want, loc.get("reason")))
    need(re.search(r"^mpcheck: pid %d \([^)]*\): %s not reproduced on rerun: .*%s" % (pid, kind, re.escape(want)),
                   err, re.M), "text says not reproduced on rerun")
    need("not reproduced on rerun" in r["message"]["text"], "SARIF says not reproduced")
    need(J["summary"]["located"] == 0 and J["summary"]["not_located"] == 1, "summary counts")
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY

# mcase NAME BINARY KIND WANT ACCESS_LINE [MPCHECK OPTIONS --] ARGS...
mcase() {
	local name=$1 bin=$2 kind=$3 want=$4 line=$5 out
	shift 5
	local opts=()
	while [ "$1" != "--" ]; do opts+=("$1"); shift; done
	shift
	local W=$T/$name
	mkdir -p "$W"
	(cd "$W" && LC=$bin timeout -k 5 60 python3 "$MPCHECK" "${opts[@]}" \
		--json "$W/r.json" --sarif "$W/r.sarif" -- sh "$T/suite.sh" "$@" \
		>"$W/out" 2>"$W/err")
	rc=$?
	if [ "$rc" != 23 ]; then
		fail "$name: mpcheck exits 23 (the gate of the original run)" "exit $rc" "$(tail -5 "$W/err")"
		return
	fi
	if out=$(python3 "$T/check.py" "$name" "$W/err" "$W/r.json" "$W/r.sarif" \
		"$kind" "$want" "$line" "$1" 2>&1); then
		pass "$name"
	else
		fail "$name" "$out" "$(grep '^mpcheck' "$W/err" | head -8)"
	fi
}

mcase "overflow by 1 of a 10-byte block, located (by default)" "$B/lc.O0" heap-buffer-overflow located "$ACCESS_WRITE" -- over 10
mcase "overflow by 1 of a 10-byte block, located (--locate)" "$B/lc.O0" heap-buffer-overflow located "$ACCESS_WRITE" --locate -- over 10
mcase "overflow by 1 of a 16-byte block, located" "$B/lc.O0" heap-buffer-overflow located "$ACCESS_WRITE" -- over 16
mcase "overflow by 1 of a 5000-byte (large) block, located" "$B/lc.O0" heap-buffer-overflow located "$ACCESS_WRITE" -- over 5000
mcase "overflow by 1 of a 10-byte block, $CC2 -O2, located" "$B/lc.O2" heap-buffer-overflow located "$ACCESS_WRITE" -- over 10
mcase "underflow by 1, located" "$B/lc.O0" heap-buffer-underflow located "$ACCESS_WRITE" -- under
mcase "write after free, located" "$B/lc.O0" use-after-free located "$ACCESS_WRITE" -- wuaf
mcase "overflow of the 20000th block of a loop, located (guard-page slots reused)" "$B/lc.O0" \
	heap-buffer-overflow located "$ACCESS_WRITE" -- loop 20000
mcase "a bug the rerun does not repeat: not reproduced" "$B/lc.O0" heap-buffer-overflow \
	"exited with status 0 without a bad access to a block of this site" "$ACCESS_WRITE" -- flaky "$T/flaky.once"
mcase "a rerun that hangs is killed: not reproduced" "$B/lc.O0" heap-buffer-overflow \
	"did not end within 1 s and was killed" "$ACCESS_WRITE" --locate-timeout 1 -- hang "$T/hang.once"

# a bad --locate-timeout: mpcheck's own usage error, nothing run
python3 "$MPCHECK" --locate --locate-timeout 0 -- "$B/lc.O0" over 10 >"$T/usage.out" 2>"$T/usage.err"
rc=$?
if [ "$rc" = 125 ] && [ "$(head -1 "$T/usage.err")" = "mpcheck: --locate-timeout: expected an integer 1..86400, got '0'" ] &&
	[ ! -s "$T/usage.out" ]; then
	pass "--locate-timeout 0 is a usage error (125)"
else
	fail "--locate-timeout 0 is a usage error (125)" "exit $rc" "$(cat "$T/usage.err")"
fi

# ---- the late report's line, then the read after free it makes visible
prun wuaf "$B/lc.O0" wuaf
key=$(sed -n 's/.*to find the access: mpcheck --locate, or rerun with MPWRAP_OPTIONS=guard_page_sites=\([^ ]*\) (also catches reads after free)$/\1/p' "$RD"/r.*.log)
if [[ "$key" =~ ^lc\.O0\+0x[0-9a-f]+/lc\.O0\+0x[0-9a-f]+$ ]]; then
	pass "a late use-after-free ends with the option that targets its site ($key)"
else
	fail "a late use-after-free ends with the option that targets its site" "key '$key'" "$(cat "$RD"/r.*.log)"
fi

prun ruaf_plain "$B/lc.O0" ruaf
if grep -q "ERROR:" "$RD"/r.*.log || [ "$rc" != 0 ]; then
	fail "a read after free is invisible without a guard page" "exit $rc" "$(cat "$RD"/r.*.log)"
else
	pass "a read after free is invisible without a guard page"
fi

OPTS="guard_page_sites=$key" prun ruaf "$B/lc.O0" ruaf
log=$(cat "$RD"/r.*.log 2>/dev/null)
want="ERROR: use-after-free"
if [ "$rc" = 139 ] && grep -q "$want" <<<"$log" &&
	grep -Eq "== read at offset 3 \(0x[0-9a-f]+\) of the freed 10-byte block at 0x[0-9a-f]+, caught by a guard page$" <<<"$log" &&
	grep -Eq "==     #0 0x[0-9a-f]+ in read_at \S*lc_damage\.c:$ACCESS_READ " <<<"$log" &&
	grep -q "\"access\":\"read\"" "$RD"/r.*.json; then
	pass "guard_page_sites catches the read after free at read_at:$ACCESS_READ (SIGSEGV, read)"
else
	fail "guard_page_sites catches the read after free at read_at:$ACCESS_READ" "exit $rc" "$log"
fi

# ---- the read after free in the suite, under mpcheck, with the option:
# found at the access itself (no rerun), a read, placed at read_at's line
W=$T/ruaf_suite
mkdir -p "$W"
(cd "$W" && LC=$B/lc.O0 MPWRAP_OPTIONS="guard_page_sites=$key" timeout -k 5 60 \
	python3 "$MPCHECK" --locate --json "$W/r.json" --sarif "$W/r.sarif" -- \
	sh "$T/suite.sh" ruaf >"$W/out" 2>"$W/err")
rc=$?
if out=$(python3 - "$W" "$ACCESS_READ" <<'PY' 2>&1
import json, sys
w, line = sys.argv[1], int(sys.argv[2])
J = json.load(open(w + "/r.json"))
S = json.load(open(w + "/r.sarif"))
F = J["findings"]
assert [f["kind"] for f in F] == ["use-after-free"], [f["kind"] for f in F]
f = F[0]
assert f["stack"][0]["function"] == "read_at" and f["stack"][0]["line"] == line, f["stack"][:1]
assert "located" not in f and f["guard_page_site"] is None, f.get("located")
errs = [e for p in J["processes"] for e in p["errors"]]
assert [(e["access"], e["function"], e["count"]) for e in errs] == [("read", "guard page", 0)], errs
assert sum(p["argv"][1:2] == ["ruaf"] for p in J["processes"]) == 1
r = S["runs"][0]["results"][0]
assert r["locations"][0]["physicalLocation"]["region"]["startLine"] == line, r["locations"]
assert "read at offset 3" in r["message"]["text"], r["message"]
PY
) && [ "$rc" = 23 ] && ! grep -q "rerun" "$W/err"; then
	pass "mpcheck: a read after free in the suite, caught with guard_page_sites, at read_at:$ACCESS_READ"
else
	fail "mpcheck: a read after free in the suite, caught with guard_page_sites" "exit $rc" "$out" "$(grep ^mpcheck "$W/err")"
fi

mcase "a rerun past --locate-budget is killed: not reproduced" "$B/lc.O0" heap-buffer-overflow \
	"did not end within 1 s and was killed (--locate-budget)" "$ACCESS_WRITE" --locate-budget 1 -- hang "$T/hang2.once"

# ---- --no-locate: no rerun; the result at the allocation, not the free
W=$T/nolocate
mkdir -p "$W"
(cd "$W" && LC=$B/lc.O0 timeout -k 5 60 python3 "$MPCHECK" --no-locate --json "$W/r.json" \
	--sarif "$W/r.sarif" -- sh "$T/suite.sh" over 10 >"$W/out" 2>"$W/err")
rc=$?
top=$(git -C "$MPWRAP_ROOT" rev-parse --show-toplevel 2>/dev/null)
if out=$(python3 - "$W" "$ALLOC_SITE" "$top" "$SRC" <<'PY' 2>&1
import json, os, sys
w, line, top, src = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
J = json.load(open(w + "/r.json"))
S = json.load(open(w + "/r.sarif"))
err = open(w + "/err").read()
f, = J["findings"]
assert f["kind"] == "heap-buffer-overflow" and "located" not in f, f.get("located")
assert J["summary"]["located"] == 0 and J["summary"]["not_located"] == 0, J["summary"]
assert "located by a rerun" not in err and "on rerun" not in err, err
r = S["runs"][0]["results"][0]
loc = r["locations"][0]
assert loc["logicalLocations"][0]["fullyQualifiedName"] == "make_block", loc
assert loc["physicalLocation"]["region"]["startLine"] == line, loc
art = loc["physicalLocation"]["artifactLocation"]
if top:     # the repository's top level, from a directory outside it
    assert art == {"uri": os.path.relpath(src, top), "uriBaseId": "SRCROOT"}, art
    base = S["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"]
    assert base == "file://" + os.path.realpath(top) + "/", base
# the text summary: the finding, where it was allocated
assert "): heap-buffer-overflow: " in err and "mpcheck:   allocated by:" in err, err
assert "#0 make_block in " in err.split("mpcheck:   allocated by:", 1)[1].split("\n")[1], err
PY
) && [ "$rc" = 23 ]; then
	pass "--no-locate: no rerun; SARIF at the allocation (make_block:$ALLOC_SITE), URI relative to git's top level"
else
	fail "--no-locate: no rerun; SARIF at the allocation" "exit $rc" "$out" "$(grep ^mpcheck "$W/err" | head)"
fi

# ---- the program's own stdin: a pipe is not replayed by default (not
# rerun, and said so), --locate reruns it with /dev/null; a regular file is
# given again from its start
# dcase NAME WANT STDIN-KIND [MPCHECK OPTIONS]
dcase() {
	local name=$1 want=$2 kind=$3 W=$T/$4
	shift 4
	mkdir -p "$W"
	local run=(timeout -k 5 60 python3 "$MPCHECK" "$@" --json "$W/r.json" --sarif "$W/r.sarif" -- "$B/lc.O0" over 10)
	echo data >"$W/in"
	case $kind in
	pipe) (cd "$W" && echo data | "${run[@]}" >"$W/out" 2>"$W/err") ;;
	file) (cd "$W" && "${run[@]}" <"$W/in" >"$W/out" 2>"$W/err") ;;
	esac
	rc=$?
	if out=$(python3 - "$W" "$want" <<'PY' 2>&1
import json, sys
w, want = sys.argv[1], sys.argv[2]
J = json.load(open(w + "/r.json"))
err = open(w + "/err").read()
f, = J["findings"]
loc = f.get("located", {})
if want == "located":
    assert loc.get("status") == "located", loc
else:
    assert loc.get("status") == "not rerun" and want in loc.get("reason", ""), loc
    assert "heap-buffer-overflow not located (not rerun: " + want in err, err
    assert J["summary"]["not_located"] == 1, J["summary"]
PY
) && [ "$rc" = 23 ]; then
		pass "$name"
	else
		fail "$name" "exit $rc" "$out" "$(grep ^mpcheck "$W/err" | head)"
	fi
}
dcase "stdin a pipe: not rerun by default, and the summary says why" \
	"its standard input was a pipe, which a rerun cannot replay" pipe stdin_pipe
dcase "stdin a pipe, --locate: rerun with /dev/null, located" located pipe stdin_pipe_forced --locate
dcase "stdin a regular file: rerun with the same file, located" located file stdin_file

# every SARIF log validates against the SARIF 2.1.0 schema
if python3 -c "import jsonschema" 2>/dev/null; then
	if out=$(python3 "$MPWRAP_ROOT/tests/sarif/check_sarif.py" "$T"/*/r.sarif 2>&1); then
		pass "every SARIF log validates against the SARIF 2.1.0 schema"
	else
		fail "every SARIF log validates against the SARIF 2.1.0 schema" "$out"
	fi
else
	n=$((n + 1)); echo "ok $n - # SKIP python3-jsonschema not installed"
fi

# ---- a bad value: one warning line, the program runs as ever
for bad in "lc.O0+12" "sideways@lc.O0+0x10" "a+0x1/b+0x2/c+0x3/d+0x4" "lc.O0+0xzz" "+0x10" ",lc.O0+0x10"; do
	OPTS="guard_page_sites=$bad" prun badkey "$B/lc.O0" clean
	if [ "$rc" = 0 ] && [ "$(grep -c . "$RD/err")" = 1 ] &&
		grep -qxF "mpwrap: warning: MPWRAP_OPTIONS: bad value 'guard_page_sites=$bad'; ignored" "$RD/err" &&
		grep -q "no leaks, no errors" "$RD"/r.*.log; then
		pass "a malformed guard_page_sites ($bad) is one warning line"
	else
		fail "a malformed guard_page_sites ($bad) is one warning line" "exit $rc" "$(cat "$RD/err")"
	fi
done

echo "# $((SECONDS - start)) s"
echo "1..$n"
[ "$failed" = 0 ]
