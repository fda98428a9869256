#!/usr/bin/env bash
# t_files.sh - issue 24 items 2, 3, 5 and the minor items about report
# files: the checker never breaks a file that is not its own.
#   RLIMIT_FSIZE   a report past `ulimit -f` is a write failure said once
#                  (the program died of SIGXFSZ, status 153, a temporary
#                  file left); the program's own writes still raise it
#   start_path     an existing file it names is never deleted (it was);
#                  start_path = json_path keeps the report (it deleted it)
#   json_path      a file that is not a report of ours is never replaced
#                  (/etc/passwd became a JSON report, 0600): the report goes
#                  beside it; a report of ours or an empty file is replaced
#                  keeping its mode
#   log_path       appends only to a log of ours (or log_force=1);
#                  /dev/stderr means stderr; a write failure is said once
#                  and the rest goes to stderr (it was lost silently)
#   relative paths mean the directory the program started in (a daemon's
#                  chdir("/") moved them); notices name errors in words
#   mpcheck        --json/--sarif/--baseline-out/--log-file that are not
#                  its own files are refused before the run
# Every outcome is exact: the victim's bytes and mode, the exit status, the
# one notice line, no temporary file left.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
TEST_NAME=t_files
# shellcheck source=../progs/harness.sh
. "$here/progs/harness.sh"
R=$MPWRAP_ROOT/tests/robust
MPCHECK=$MPWRAP_ROOT/scripts/mpcheck
export MPWRAP_LIB

if cc -g -O0 -pthread "$R/rb_files.c" -o "$B/rb_files" 2>"$T/cc.log"; then
	pass "build rb_files"
else
	fail "build rb_files" "$(head -c 600 "$T/cc.log")"
fi
root=0
[ "$(id -u)" = 0 ] && root=1
chmod 755 "$T" "$B" "$T/run" # the runs as nobody reach the program

# frun ID OPTIONS [fsize=BYTES] [as=nobody] PROG ARGS...: PROG under the
# preload with exactly OPTIONS in $T/run/ID (= $RD, also the working
# directory, made before: tests plant files there).  stdout in $RD/out;
# stderr through a pipe into $RD/err (a pipe has no file size limit);
# exit status in $rc.
frun() {
	local id=$1 opts=$2 pre=()
	shift 2
	RD=$T/run/$id
	mkdir -p "$RD"
	while :; do
		case $1 in
		fsize=*) pre+=(prlimit "--fsize=${1#fsize=}"); shift ;;
		as=nobody) pre+=(setpriv --reuid=nobody --regid=nogroup --clear-groups); shift ;;
		*) break ;;
		esac
	done
	opts=${opts//@RD@/$RD}
	{ (cd "$RD" && exec timeout -k 2 20 "${pre[@]}" env LD_PRELOAD="$MPWRAP_LIB" \
		MPWRAP_OPTIONS="$opts" "$@" 2>&1 >"$RD/out" | cat >"$RD/err"
		exit "${PIPESTATUS[0]}"); } 2>/dev/null
	rc=$?
}
rdir() { RD=$T/run/$1; rm -rf "$RD"; mkdir -p "$RD"; chmod 755 "$RD"; }

# verdict NAME PYTHON: one TAP line from the python assertions against
# $RD: R(name) its text, J(name) its JSON, M(name) its mode, need(c, msg),
# ERR the stderr lines, PID the program's pid (from the reports).
verdict() {
	local why
	why=$(RD=$RD RC=$rc python3 - "$2" <<'PY'
import glob, json, os, re, stat, sys
RD, rc = os.environ["RD"], int(os.environ["RC"])
problems = []
def need(c, m):
    if not c:
        problems.append(m)
    return bool(c)
def P(n):
    return os.path.join(RD, n)
def R(n):
    try:
        return open(P(n), errors="replace").read()
    except OSError as e:
        return "<%s>" % e
def J(n):
    try:
        return json.load(open(P(n)))
    except (OSError, ValueError) as e:
        need(False, "%s: %s" % (n, e))
        return None
def M(n):
    try:
        return oct(stat.S_IMODE(os.lstat(P(n)).st_mode))
    except OSError as e:
        return "<%s>" % e
def left(pattern):
    return sorted(os.path.basename(p) for p in glob.glob(P(pattern)))
ERR = [l for l in R("err").splitlines() if "mpwrap:" in l and "==" in l
       and not re.search(r"ERROR|SUMMARY|lost|blocks", l)]
try:
    exec(sys.argv[1])
except Exception as e:
    problems.append("check raised %s: %s" % (type(e).__name__, e))
print("\n".join(problems))
PY
)
	if [ -z "$why" ]; then
		pass "$1"
	else
		fail "$1 (exit $rc)" "$why" "--- stderr:" "$(head -c 1200 "$RD/err")" \
			"--- files: $(ls -la "$RD" | tail -n +4 | awk '{print $1, $5, $9}' | tr '\n' '|')"
	fi
}

VICTIM='root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
'
plant_victim() { printf '%s' "$VICTIM" >"$RD/$1"; chmod "$2" "$RD/$1"; }
export VICTIM

# ---- item 2: RLIMIT_FSIZE ----------------------------------------------
rdir fsize
frun fsize "json_path=r.json:log_path=r.log" fsize=1024 "$B/rb_files" thread
verdict "ulimit -f below the reports: exit 0 (not SIGXFSZ), no JSON, no temporary, each failure said once, the text report continues on stderr" '
need(rc == 0, "exit status %d, expected 0 (153: SIGXFSZ)" % rc)
need(R("out") == "# done\n", "stdout %r" % R("out"))
need(left("r.json*") == [], "files left: %s" % left("r.json*"))
path = P("r.json")
lim = "it would pass the file size limit \\(ulimit -f\\)"
need(len([l for l in ERR if "r.json" in l]) == 1 and any(re.fullmatch(r"==\d+== mpwrap: not writing the JSON report \x27%s\x27: %s; no JSON report" % (re.escape(path), lim), l) for l in ERR),
     "JSON lines: %s" % [l for l in ERR if "r.json" in l])
logl = [l for l in ERR if "r.log" in l]
need(len(logl) == 1 and re.fullmatch(r"==\d+== mpwrap: cannot write the report to log_path \x27%s\x27: %s; reporting to stderr" % (re.escape(P("r.log")), lim), logl[0]),
     "log lines: %s" % logl)
need(os.path.getsize(P("r.log")) <= 1024, "r.log is %d bytes" % os.path.getsize(P("r.log")))
need("ERROR SUMMARY: 1 error" in R("err"), "the rest of the text report is not on stderr")
need(all(l.startswith("==") for l in ERR if l), "stderr does not go on in whole report lines: %s" % [l for l in ERR if l and not l.startswith("==")])'

rdir fsize_own
frun fsize_own "json_path=r.json:log_path=r.log" fsize=1048576 "$B/rb_files" write big 2000000
verdict "the program'\''s own write past ulimit -f still dies of SIGXFSZ (as without the library)" '
need(rc == 153, "exit status %d, expected 153 (SIGXFSZ)" % rc)'

rdir fsize_json
frun fsize_json "json_path=r.json:log_path=r.log" fsize=2048 "$B/rb_files"
verdict "ulimit -f between the text report and the JSON: the log complete, the JSON refused once, exit 0" '
need(rc == 0, "exit status %d, expected 0" % rc)
need(left("r.json*") == [], "files left: %s" % left("r.json*"))
need("ERROR SUMMARY: 1 error" in R("r.log"), "r.log incomplete")
need(len(ERR) == 1 and "not writing the JSON report" in ERR[0], "notices: %s" % ERR)'

# ---- item 3: start_path ------------------------------------------------
rdir start_victim
plant_victim victim 0644
frun start_victim "json_path=r.json:log_path=r.log:start_path=victim" "$B/rb_files"
verdict "start_path naming an existing file: the file stays, byte for byte and mode" '
need(rc == 0, "exit status %d" % rc)
need(R("victim") == os.environ["VICTIM"] and M("victim") == "0o644", "victim: %r mode %s" % (R("victim")[:80], M("victim")))
j = J("r.json")
need(j and j["summary"]["leaks"]["definite"]["bytes"] == 100, "no report")'

rdir start_same
frun start_same "json_path=r.%p.json:log_path=r.log:start_path=r.%p.json" "$B/rb_files"
verdict "start_path = json_path: the report stays" '
need(rc == 0, "exit status %d" % rc)
js = left("r.*.json")
need(len(js) == 1, "reports: %s" % js)
if js:
    j = J(js[0])
    need(j and j["summary"]["leaks"]["definite"]["bytes"] == 100, "not the report")
need(ERR == [], "notices: %s" % ERR)'

rdir start_exec
# shellcheck disable=SC2016 # $0 is the inner shell's
frun start_exec "json_path=r.%p.json:log_path=r.log:start_path=s.%p" sh -c 'exec "$0"' "$B/rb_files"
verdict "the marker a process made before exec is removed with the report of the image after it" '
need(rc == 0, "exit status %d" % rc)
need(left("s.*") == [], "markers left: %s" % left("s.*"))
need(len(left("r.*.json")) == 1, "reports: %s" % left("r.*.json"))'

# ---- item 5: json_path / log_path naming what is not ours ---------------
rdir json_victim
plant_victim passwd 0644
frun json_victim "json_path=passwd:log_path=r.log" "$B/rb_files"
verdict "json_path naming a file that is not a report: untouched (bytes, mode), the report beside it, said in one line" '
need(rc == 0, "exit status %d" % rc)
need(R("passwd") == os.environ["VICTIM"] and M("passwd") == "0o644", "passwd: %r mode %s" % (R("passwd")[:80], M("passwd")))
b = left("passwd.mpwrap-*.json")
need(len(b) == 1, "beside: %s" % left("passwd*"))
if b:
    j = J(b[0])
    need(j and b[0] == "passwd.mpwrap-%d.json" % j["pid"], "%s is not its report" % b[0])
    need(len(ERR) == 1 and re.fullmatch(r"==\d+== mpwrap: not replacing \x27%s\x27: it is not an mpwrap report; the JSON report is \x27%s\x27" % (re.escape(P("passwd")), re.escape(P(b[0]))), ERR[0]),
         "notices: %s" % ERR)
need(left("passwd.tmp*") == [], "temporaries left")'

if [ "$root" = 1 ]; then
	rdir json_victim_nobody
	chown nobody "$RD"
	plant_victim data 0640
	chown nobody "$RD/data"
	frun json_victim_nobody "json_path=data:log_path=r.log" as=nobody "$B/rb_files"
	verdict "as nobody: json_path naming its own file that is not a report: untouched, the report beside it" '
need(rc == 0, "exit status %d" % rc)
need(R("data") == os.environ["VICTIM"] and M("data") == "0o640", "data: %r mode %s" % (R("data")[:80], M("data")))
need(len(left("data.mpwrap-*.json")) == 1, "beside: %s" % left("data*"))'
else
	pass "as nobody: json_path naming its own file that is not a report # SKIP needs root"
fi

rdir json_ours
printf '{"version":1,"tool":"mpwrap","pid":1,"old":1}\n' >"$RD/r.json"
chmod 0644 "$RD/r.json"
: >"$RD/e.json"
chmod 0640 "$RD/e.json"
frun json_ours "json_path=r.json:log_path=r.log" "$B/rb_files"
verdict "json_path naming an earlier report of ours: replaced, its mode 0644 kept" '
need(rc == 0, "exit status %d" % rc)
j = J("r.json")
need(j and "old" not in j and j["summary"]["leaks"]["definite"]["bytes"] == 100, "not replaced")
need(M("r.json") == "0o644", "mode %s" % M("r.json"))
need(ERR == [], "notices: %s" % ERR)'
frun json_ours "json_path=e.json:log_path=r.log" "$B/rb_files"
verdict "json_path naming an empty file: replaced, its mode 0640 kept" '
j = J("e.json")
need(j and j["summary"]["leaks"]["definite"]["bytes"] == 100, "not replaced")
need(M("e.json") == "0o640", "mode %s" % M("e.json"))'

rdir log_victim
plant_victim notes 0644
frun log_victim "json_path=r.json:log_path=notes" "$B/rb_files"
verdict "log_path naming a file that is not a log of ours: untouched, said once, the report on stderr" '
need(rc == 0, "exit status %d" % rc)
need(R("notes") == os.environ["VICTIM"] and M("notes") == "0o644", "notes: %r mode %s" % (R("notes")[:200], M("notes")))
need(len(ERR) == 1 and re.fullmatch(r"==\d+== mpwrap: not writing the report to log_path \x27%s\x27: it is not an mpwrap log \(log_force=1 appends anyway\); reporting to stderr" % re.escape(P("notes")), ERR[0]),
     "notices: %s" % ERR)
need("ERROR SUMMARY: 1 error" in R("err"), "no report on stderr")'
frun log_victim "json_path=r.json:log_path=notes:log_force=1" "$B/rb_files"
verdict "log_force=1 appends to it anyway (its first bytes unchanged)" '
need(R("notes").startswith(os.environ["VICTIM"]) and "ERROR SUMMARY: 1 error" in R("notes"), "notes: %r" % R("notes")[:200])
need(ERR == [], "notices: %s" % ERR)'

rdir log_ours
frun log_ours "json_path=r.json:log_path=r.log" "$B/rb_files"
frun log_ours "json_path=r.json:log_path=r.log" "$B/rb_files"
verdict "log_path naming a log of ours: appended" '
need(R("r.log").count("ERROR SUMMARY: 1 error") == 2, "r.log holds %d reports" % R("r.log").count("ERROR SUMMARY"))
need(ERR == [], "notices: %s" % ERR)'

rdir log_stderr
frun log_stderr "json_path=r.json:log_path=/dev/stderr" "$B/rb_files"
verdict "log_path=/dev/stderr: the report on stderr, no notice" '
need(rc == 0, "exit status %d" % rc)
need("ERROR SUMMARY: 1 error" in R("err"), "no report on stderr")
need(ERR == [], "notices: %s" % ERR)'

# ---- minor: relative paths, error texts ---------------------------------
rdir relative
mkdir "$RD/elsewhere"
frun relative "json_path=r.json:log_path=r.log:start_path=s.%p" "$B/rb_files" chdir elsewhere
verdict "relative report paths mean the directory the program started in, whatever it chdir()s to" '
need(rc == 0, "exit status %d" % rc)
need(J("r.json") is not None and "ERROR SUMMARY" in R("r.log"), "no reports in the start directory")
need(os.listdir(P("elsewhere")) == [], "in elsewhere: %s" % os.listdir(P("elsewhere")))
need(left("s.*") == [], "markers left: %s" % left("s.*"))'

rdir errtext
long=$(printf 'x%.0s' $(seq 300))
frun errtext "json_path=$long.json:log_path=r.log" "$B/rb_files"
verdict "a notice names the error in words (not errno 36)" '
need(len(ERR) == 1 and ERR[0].endswith(": File name too long; no JSON report"), "notices: %s" % ERR)'

# ---- mpcheck: its own outputs -------------------------------------------
mrun() {
	local id=$1
	shift
	RD=$T/run/$id
	(cd "$RD" && timeout -k 2 60 python3 "$MPCHECK" "$@" >"$RD/out" 2>"$RD/err")
	rc=$?
}
rdir mpcheck
plant_victim victim 0644
for opt in --json --sarif --baseline-out --log-file; do
	mrun mpcheck "$opt" victim -- "$B/rb_files"
	OPT=$opt verdict "mpcheck $opt naming a file that is not its own: refused before the run, untouched" '
need(rc == 125, "exit status %d, expected 125" % rc)
need(R("out") == "", "the program ran: %r" % R("out"))
need(R("victim") == os.environ["VICTIM"] and M("victim") == "0o644", "victim changed")
opt = os.environ["OPT"]
what = "log" if opt == "--log-file" else "report"
name = P("victim") if what == "log" else "victim"  # --log-file is made absolute
need(R("err") == "mpcheck: %s: not %s \x27%s\x27: it is not an mpcheck %s\n" % (opt, "appending to" if what == "log" else "replacing", name, "output" if what == "report" else "log"),
     "stderr: %r" % R("err"))'
done
mrun mpcheck --json r.json --sarif r.sarif --baseline-out r.base --log-file r.log -- "$B/rb_files"
mrun mpcheck --json r.json --sarif r.sarif --baseline-out r.base --log-file r.log -- "$B/rb_files"
verdict "mpcheck replaces its own outputs and appends to its own log" '
need(rc == 0, "exit status %d, expected 0 (--baseline-out skips the gate)" % rc)
need(J("r.json") and J("r.sarif") and R("r.base").startswith("# mpcheck baseline"), "outputs missing")
need(R("r.log").count("ERROR SUMMARY") == 2, "r.log: %d reports" % R("r.log").count("ERROR SUMMARY"))'

echo "1..$n"
[ "$failed" -eq 0 ]
