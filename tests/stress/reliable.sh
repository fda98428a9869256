# reliable.sh - sourced by t_stress.sh: reproducers of issue 12 items 6, 10,
# 11, 12 and 13 (fatal-signal death, abort_on_error, report files planted
# in the way, a program that closes stderr).  Uses t_stress.sh's $B, $S,
# $T, pass/fail, build and CFLAGS_ST.  Each run keeps stdout and stderr
# apart; every outcome is asserted exactly: the exit status or signal, the
# report text in the file it belongs to, planted files untouched, no hang.

for p in st_fault_remap st_abort_on_error st_report_sinks st_stderr_closed; do
	build "$p" $CC $CFLAGS_ST "$S/$p.c" -o "$B/$p"
done

# rrun ID OPTIONS PROG ARGS...: PROG under the preload with exactly
# OPTIONS, in $T/run/ID (= $RD, also the working directory); stdout in
# $RD/out, stderr in $RD/err, exit status in $rc (124/137: hung, killed).
rrun() {
	local id=$1 opts=$2
	shift 2
	RD=$T/run/$id
	mkdir -p "$RD"
	# (the outer braces keep bash's "Aborted" notices off our output)
	{ (cd "$RD" && exec timeout -k 2 20 env LD_PRELOAD="$MPWRAP_LIB" \
		MPWRAP_OPTIONS="$opts" "$@" >"$RD/out" 2>"$RD/err"); } 2>/dev/null
	rc=$?
}

# why_not PYTHON: run the python assertion code against $RD; prints the
# problems (nothing when all hold).  R(name) reads $RD/name; J(name) loads
# JSON; need(cond, msg).
why_not() {
	RD=$RD RC=$rc python3 - "$1" <<'PY'
import json, os, re, stat, sys
RD, rc = os.environ["RD"], int(os.environ["RC"])
problems = []
def need(c, m):
    if not c:
        problems.append(m)
    return bool(c)
def R(n):
    try:
        return open(os.path.join(RD, n), errors="replace").read()
    except OSError as e:
        return "<%s>" % e
def J(n):
    try:
        return json.load(open(os.path.join(RD, n)))
    except (OSError, ValueError) as e:
        need(False, "%s: %s" % (n, e))
        return None
try:
    exec(sys.argv[1])
except Exception as e:
    problems.append("check raised %s: %s" % (type(e).__name__, e))
print("\n".join(problems))
PY
}

# verdict NAME PYTHON: one TAP line
verdict() {
	local why
	why=$(why_not "$2")
	if [ -z "$why" ]; then
		pass "$1"
	else
		fail "$1 (exit $rc)" "$why" "--- stdout:" "$(head -c 400 "$RD/out")" \
			"--- stderr:" "$(head -c 1500 "$RD/err")"
	fi
}

# ---- item 6: a fault the report's own mappings made valid still kills ----
rrun fault_remap "log_path=r.log:json_path=r.json" "$B/st_fault_remap"
verdict "fatal signal: a write through a dangling pointer into unmapped memory dies of SIGSEGV although the report's mappings landed on the address" '
need(rc == 128 + 11, "exit status %d, expected death by SIGSEGV (139)" % rc)
need("survived" not in R("out"), "the program went on after the fault: %r" % R("out")[-200:])
log = R("r.log")
m = re.search(r"fault_at=(0x[0-9a-f]+)", R("out"))
need(m and "dying of SIGSEGV (11) at address %s" % m.group(1) in log,
     "no \"dying of SIGSEGV\" line for the fault address in the log")
need(re.search(r"100 bytes in 1 block is definitely lost", log), "the leak report is missing")
j = J("r.json")
need(j and j["summary"]["leaks"]["definite"] == {"bytes": 100, "blocks": 1},
     "JSON definite leaks: %s" % (j and j["summary"]["leaks"]["definite"]))'

# ---- item 10: abort_on_error=1 keeps the leak report and the JSON --------
for mode in free exit; do
	case $mode in
	free) kind=double-free leaked=100,1 what="a double free while running" ;;
	exit) kind=heap-buffer-overflow leaked=110,2 what="an overflow found by the exit check" ;;
	esac
	rrun "abort_$mode" "abort_on_error=1:log_path=r.log:json_path=r.json" \
		"$B/st_abort_on_error" "$mode"
	KIND=$kind LEAKED=$leaked verdict "abort_on_error=1, $what: the error, the leak report and the JSON are written, then death by SIGABRT" '
kind = os.environ["KIND"]
b, k = (int(x) for x in os.environ["LEAKED"].split(","))
need(rc == 128 + 6, "exit status %d, expected death by SIGABRT (134)" % rc)
need("survived" not in R("out"), "the program went on after the error")
log = R("r.log")
need(("ERROR: %s" % kind) in log, "no %s report in the log" % kind)
need(re.search(r"100 bytes in 1 block is definitely lost, allocated from:\n.*in leak_site ", log),
     "the leak report (100 bytes from leak_site) is missing")
need(re.search(r"LEAK SUMMARY:\n.*definitely lost  %d bytes in %d blocks?\n" % (b, k), log),
     "LEAK SUMMARY does not say %d bytes in %d blocks definitely lost" % (b, k))
need("leak scan skipped" not in log, "the leak scan was skipped")
need(log.rfind("ERROR SUMMARY") < log.rfind("abort_on_error=1: aborting (SIGABRT)"),
     "no line saying it aborts, after the summary")
j = J("r.json")
if j:
    need([e["kind"] for e in j["errors"]] == [kind], "JSON errors %s" % [e["kind"] for e in j["errors"]])
    need(j["summary"]["leaks"]["definite"] == {"bytes": b, "blocks": k},
         "JSON definite leaks %s" % j["summary"]["leaks"]["definite"])'
done

# ---- items 11 and 12: report files planted in the way --------------------
# plant ID: a fresh run dir with the things planted; root can also make a
# device node of its own (never the system's /dev/null: the old code
# renamed over it) and files of another user.
root=0
[ "$(id -u)" = 0 ] && root=1
plant() {
	RD=$T/run/$1
	mkdir -p "$RD"
	mkfifo "$RD/fifo"
	ln -s /dev/null "$RD/devlink"
	echo "a file of the user's" >"$RD/victim"
	ln "$RD/victim" "$RD/hardlink"
	if [ "$root" = 1 ]; then
		mknod "$RD/dev" c 1 3
		: >"$RD/other"
		chown 65534 "$RD/other"
	fi
}
# sinks NAME OPTIONS PLANTED WHY [root]: st_report_sinks with OPTIONS
# (@RD@ = the run dir); the program must finish (no hang), exit 0, leave
# PLANTED as it was (type, owner, size, device numbers, link target), say
# "...'RD/PLANTED': WHY" in one line on stderr, and its report must be
# complete where it went (r.log, or stderr when PLANTED was log_path).
nsinks=0
sinks() {
	local name=$1 opts=$2 planted=$3 why=$4 id
	if [ "${5:-}" = root ] && [ "$root" = 0 ]; then
		pass "$name # SKIP needs root (mknod, chown)"
		return
	fi
	nsinks=$((nsinks + 1))
	id=sinks$nsinks
	plant "$id"
	opts=${opts//@RD@/$RD}
	local before
	before=$(stat -c '%F %u %s %t:%T' "$RD/$planted"; readlink "$RD/$planted")
	rrun "$id" "$opts" "$B/st_report_sinks"
	OPTS=$opts BEFORE=$before PLANTED=$planted WHY=$why \
	AFTER="$(stat -c '%F %u %s %t:%T' "$RD/$planted"; readlink "$RD/$planted")" \
	verdict "$name" '
planted, why = os.environ["PLANTED"], os.environ["WHY"]
need(rc not in (124, 137), "the program hung (killed after 20 s)")
need(rc == 0, "exit status %d, expected 0" % rc)
need("# done" in R("out"), "the program did not finish")
need(os.environ["BEFORE"] == os.environ["AFTER"], "%s changed: %r, now %r"
     % (planted, os.environ["BEFORE"], os.environ["AFTER"]))
err = R("err")
path = os.path.join(RD, planted)
lines = [l for l in err.splitlines() if path in l]
need(len(lines) == 1 and re.fullmatch(r"==\d+== mpwrap: not writing the (report to log_path|JSON report) \x27%s\x27: %s; (reporting to stderr|no JSON report)" % (re.escape(path), why), lines[0]),
     "stderr lines naming %s: %s, expected one saying %r" % (planted, lines, why))
to_err = "log_path=" + path in os.environ["OPTS"]
where = err if to_err else R("r.log")
need("ERROR: double-free" in where and re.search(r"definitely lost +100 bytes in 1 block", where),
     "the report is not complete in %s" % ("stderr" if to_err else "r.log"))'
}
sinks "log_path a FIFO no one reads: no hang, the FIFO untouched, the report on stderr" \
	"log_path=@RD@/fifo" fifo "it is a FIFO"
sinks "json_path a FIFO: not replaced by a regular file" \
	"log_path=r.log:json_path=@RD@/fifo" fifo "it is a FIFO"
sinks "json_path a symbolic link to /dev/null: the link stays" \
	"log_path=r.log:json_path=@RD@/devlink" devlink "it is a symbolic link"
sinks "json_path a device node: not replaced by a regular file" \
	"log_path=r.log:json_path=@RD@/dev" dev "it is a device" root
sinks "log_path a device node: refused, the report on stderr" \
	"log_path=@RD@/dev" dev "it is a device" root
sinks "log_path a hard link to a file of the user's: untouched, the report on stderr" \
	"log_path=@RD@/hardlink" hardlink "it has other hard links"
sinks "log_path a file of another user's: untouched, the report on stderr" \
	"log_path=@RD@/other" other "it belongs to another user \(uid 65534\)" root
sinks "json_path a file of another user's: not replaced" \
	"log_path=r.log:json_path=@RD@/other" other "it belongs to another user \(uid 65534\)" root

# the JSON temporary's name cannot be planted first: the old names
# (json_path.tmp.PID.0 and .1) made by whoever knows the pid blocked the
# report.  The shell plants them for its own pid, which exec keeps, with
# builtins only (no child process writes a report of its own).
# shellcheck disable=SC2016 # $$ is the shell's (= the program's) pid
rrun json_tmp "log_path=r.log:json_path=r.json" sh -c \
	': >"r.json.tmp.$$.0"; : >"r.json.tmp.$$.1"; echo "# pid=$$"; exec "$0"' \
	"$B/st_report_sinks"
verdict "json_path's temporary names planted in advance do not block the JSON report" '
need(rc == 0, "exit status %d, expected 0" % rc)
pid = int(re.search(r"# pid=(\d+)", R("out")).group(1))
j = J("r.json")
need(j and j["pid"] == pid and j["summary"]["leaks"]["definite"]["bytes"] == 100,
     "r.json is not the program\x27s report (pid %d)" % pid)
for k in (0, 1):
    need(R("r.json.tmp.%d.%d" % (pid, k)) == "", "the planted r.json.tmp.%d.%d changed" % (pid, k))
need("JSON" not in R("err"), "stderr: %r" % R("err")[:300])'

# ---- item 13: the program closes stderr and reuses descriptor 2 ----------
for mode in close2 reuse; do
	case $mode in
	close2) what="stderr closed by the program: both reports on the original stderr, none in the data file that took descriptor 2" ;;
	reuse) what="every descriptor above 2 closed and reused for the program's data file: both reports on stderr, none in the data file" ;;
	esac
	rrun "stderr_$mode" "" "$B/st_stderr_closed" "$mode" data
	MODE=$mode verdict "$what" '
need(rc == 0, "exit status %d, expected 0" % rc)
if os.environ["MODE"] == "close2":
    need("# data_fd=2" in R("out"), "the data file did not get descriptor 2 (as it does without the library): %r" % R("out"))
need(R("data") == "data 1\ndata 2\n", "the data file holds %r" % R("data")[:300])
err = R("err")
need(err.count("ERROR: double-free") == 2, "%d double-free reports on stderr, expected 2" % err.count("ERROR: double-free"))
need("ERROR SUMMARY: 2 errors" in err, "no ERROR SUMMARY: 2 errors on stderr")'
done
