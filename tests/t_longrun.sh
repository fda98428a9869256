#!/usr/bin/env bash
# t_longrun.sh - long-running processes under libmpwrap.so: leak checks on a
# signal (leak_check_signal), periodically (leak_check_interval), from
# mp_leak_check() and LeakSanitizer's interface; leak_check_mode=new; the
# sites that keep growing; the full report when SIGTERM, SIGINT, SIGHUP or
# SIGQUIT kills the program, which then dies of that signal.
#
# tests/progs/lr_service.c runs three threads that allocate and free all
# the time while the checks run (each site holds N or N+1 blocks): every
# check must find exactly the blocks the main thread lost (100 bytes from
# leak_first, then 200 more from leak_third), never a block one of them
# was caught holding in a register or half-way through malloc, and must
# not hang.  The cache grows by one 64-byte block before each check
# (cache_add): from check 4 on it is reported as growing (K = 3).
#
# Environment (exported by `make test`; defaulted when run by hand):
#   MPWRAP_ROOT, MPWRAP_LIB, MPWRAP_TFLAGS as in t_preload.sh.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TEST_NAME=t_longrun
# shellcheck source=progs/harness.sh
. "$here/progs/harness.sh"

cat >"$T/lr.py" <<'PY'
# lr.py CODE [KEY=VALUE...]: checks of one run's reports in $RD.  C = the
# checks in the text log by number, each {"trigger", "leaks": [(kind,
# bytes, blocks, function)], "growing": [(bytes, blocks, checks, from,
# since, function)], "summary": {kind: (bytes, blocks)}}; X = the exit or
# termination report the same way (check None); LOG = the text.
import glob, json, os, re, sys
RD = os.environ["RD"]
V = {}
for a in sys.argv[2:]:
    k, v = a.split("=", 1)
    V[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
problems = []
def need(cond, msg):
    if not cond:
        problems.append(msg)
    return bool(cond)
KINDS = {"definitely lost": "definite", "indirectly lost": "indirect",
         "possibly lost": "possible", "still reachable": "reachable"}
logs = [p for p in glob.glob(RD + "/r.*.log")]
LOG = "".join(open(p, errors="replace").read() for p in sorted(logs))
C, X = {}, None
cur, last = None, None
def new():
    return {"trigger": None, "leaks": [], "growing": [], "summary": {},
            "lines": []}
for raw in LOG.splitlines():
    l = re.sub(r"^==\d+== ?", "", raw)
    m = re.match(r"mpwrap: leak check #(\d+) \(([^)]*)\)", l)
    if m:
        cur = C.setdefault(int(m.group(1)), new())
        cur["trigger"] = m.group(2)
    elif cur is None:
        X = X or new()
        cur = X
    cur["lines"].append(l)
    m = re.match(r"(\d+) bytes in (\d+) blocks? (?:is|are) (.*?), allocated from:", l)
    if m:
        last = ["leak", KINDS[m.group(3)], int(m.group(1)), int(m.group(2)), None]
        cur["leaks"].append(last)
        continue
    m = re.match(r"growing: (\d+) bytes in (\d+) blocks? still reachable, up at "
                 r"each of the last (\d+) checks \((\d+) bytes at check #(\d+)\)", l)
    if m:
        last = ["grow"] + [int(x) for x in m.groups()] + [None]
        cur["growing"].append(last)
        continue
    m = re.match(r"\s+#0 0x[0-9a-f]+ in (\S+)", l)
    if m and last is not None and last[-1] is None:
        last[-1] = m.group(1)
        continue
    m = re.match(r"\s+(definitely lost|indirectly lost|possibly lost|still reachable|suppressed)\s+(\d+) bytes in (\d+) block", l)
    if m:
        cur["summary"][KINDS.get(m.group(1), m.group(1))] = (int(m.group(2)), int(m.group(3)))
    if re.match(r"mpwrap: end of leak check", l):
        cur = None
def lost(sec):
    return sorted((k, b, n, f) for _, k, b, n, f in sec["leaks"] if k != "reachable")
def growing(sec):
    return [tuple(g[1:]) for g in sec["growing"]]
def jsons(pattern):
    return [json.load(open(p)) for p in sorted(glob.glob(RD + "/" + pattern))]
def exit_json():
    # the exit (or termination) report: r.PID.json, not r.PID.checkN.json
    return [json.load(open(p)) for p in sorted(glob.glob(RD + "/r.*.json"))
            if re.fullmatch(r"r\.\d+\.json", os.path.basename(p))]
try:
    exec(sys.argv[1])
except Exception as e:
    problems.append("checker: %r" % e)
if problems:
    print("\n".join(problems[:12]))
    sys.exit(1)
PY

# lr NAME CODE [KEY=VALUE...]: one TAP line from lr.py CODE.
lr() {
	local name=$1 code=$2 out
	shift 2
	if out=$(RD=$RD python3 "$T/lr.py" "$code" "$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$out" "(exit status $rc)" \
			"log: $(head -c 900 "$RD"/r.*.log 2>/dev/null | tr '\n' '|')" \
			"stderr: $(head -c 300 "$RD/err")"
	fi
}

# ------------------------------------------------------------ build

F="$MPWRAP_TFLAGS -I$P"
LIBS="-lunwind -ldw -lelf -ldl"
compile - "$T/cc.lr_service.b" $CC $F "$P/lr_service.c" -o "$B/lr_service"
compile - "$T/cc.lr_service_o2.b" $CC ${F/-O0/-O2} "$P/lr_service.c" -o "$B/lr_service_o2"
CLANG_PROG=""
if command -v clang >/dev/null; then
	CLANG_PROG=lr_service_clang
	compile - "$T/cc.lr_service_clang.b" clang ${F/-O0/-O2} "$P/lr_service.c" -o "$B/lr_service_clang"
fi
compile - "$T/cc.lr_lsan.b" $CC $F -rdynamic "$P/lr_lsan.c" -o "$B/lr_lsan"
compile - "$T/cc.lr_static.b" $CC $F "$P/lr_static.c" "$MPWRAP_ROOT/libmempool.a" \
	-o "$B/lr_static" $LIBS
wait
built "build the long-running test programs" b lr_service lr_service_o2 $CLANG_PROG lr_lsan lr_static

# The lost blocks check k must list: leak_first's from check 1, leak_third's
# from check 3 (mode all).
LOST_ALL='def want(k):
    return sorted([("definite", 100, 1, "leak_first")] +
                  ([("definite", 200, 1, "leak_third")] if k >= 3 else []))
'
# cache_add's growth at check k (K = 3): 64 * k bytes in k blocks, up at
# each of the last k - 1 checks, from 64 bytes at check 1.
GROW='def grow(k):
    return [(64 * k, k, k - 1, 64, 1, "cache_add")] if k >= 4 else []
'

# ------------------------------------------------------------ on a signal

for prog in lr_service lr_service_o2 $CLANG_PROG; do
	have $prog "$prog: 20 checks on SIGUSR2" || continue
	OPTS="leak_check_signal=SIGUSR2" prun sig.$prog "$B/$prog" signal "$T/run/sig.$prog" 20
	status_is "$prog: 20 checks on SIGUSR2 while 3 threads allocate" 0 &&
	lr "$prog: 20 checks on SIGUSR2 while 3 threads allocate: exact lost blocks, growth, no hang" "$LOST_ALL$GROW
need(sorted(C) == list(range(1, 21)), 'checks %s' % sorted(C))
for k in sorted(C):
    need(C[k]['trigger'] == 'on SIGUSR2', 'check %d trigger %r' % (k, C[k]['trigger']))
    need(lost(C[k]) == want(k), 'check %d lost %s, expected %s' % (k, lost(C[k]), want(k)))
    need(growing(C[k]) == grow(k), 'check %d growing %s, expected %s' % (k, growing(C[k]), grow(k)))
need(X and lost(X) == want(3), 'exit report lost %s' % (X and lost(X)))
J = jsons('r.*.check7.json')
need(len(J) == 1, '%d check7 JSON files' % len(J))
if J:
    j = J[0]
    need(j['check'] == {'seq': 7, 'trigger': 'on SIGUSR2', 'mode': 'all'}, 'JSON check %s' % j['check'])
    need([(g['bytes'], g['blocks'], g['checks'], g['from_bytes'], g['since_check'], g['stack'][0]['function'])
          for g in j['growing']] == grow(7), 'JSON growing %s' % j['growing'])
    need(sorted((g['kind'], g['bytes'], g['blocks'], g['stack'][0]['function']) for g in j['leaks']
                if g['kind'] != 'reachable') == want(7), 'JSON leaks')
need(len(exit_json()) == 1, 'one exit report, besides the check files')
"
done

# ------------------------------------------------------------ mode new, API

have lr_service "mp_leak_check, leak_check_mode=new" && {
	OPTS="leak_check_mode=new" prun api.new "$B/lr_service" api 6
	status_is "mp_leak_check, leak_check_mode=new" 0 &&
	lr "mp_leak_check with leak_check_mode=new: each lost block once, counts returned" "$GROW
new = {1: [('definite', 100, 1, 'leak_first')], 3: [('definite', 200, 1, 'leak_third')]}
need(sorted(C) == list(range(1, 7)), 'checks %s' % sorted(C))
for k in sorted(C):
    need(C[k]['trigger'] == 'mp_leak_check', 'trigger %r' % C[k]['trigger'])
    need(lost(C[k]) == new.get(k, []), 'check %d lost %s' % (k, lost(C[k])))
    need(growing(C[k]) == grow(k), 'check %d growing %s' % (k, growing(C[k])))
    need(any(('lost blocks allocated since check #%d' % (k - 1) if k > 1 else 'since the start') in l
             for l in C[k]['lines']), 'check %d does not say what it compares with' % k)
out = open(RD + '/out').read().splitlines()
exp = ['check %d rc %d definite %s indirect 0/0 possible 0/0 growing %d classified 1' % (
       k, 1 if k in (1, 3) else 0, {1: '100/1', 3: '200/1'}.get(k, '0/0'), 1 if k >= 4 else 0)
       for k in range(1, 7)]
need(out == exp, 'program printed %s, expected %s' % (out, exp))
need(X and lost(X) == sorted([('definite', 100, 1, 'leak_first'), ('definite', 200, 1, 'leak_third')]),
     'the exit report lists every lost block: %s' % (X and lost(X)))
"
}

# ------------------------------------------------------------ periodic

have lr_service "leak_check_interval=1" && {
	OPTS="leak_check_interval=1" prun timer "$B/lr_service" timer "$T/run/timer" 2
	status_is "leak_check_interval=1: two periodic checks" 0 &&
	lr "leak_check_interval=1: two periodic checks, exact lost blocks" "
need(sorted(C) == [1, 2], 'checks %s' % sorted(C))
for k in C:
    need(C[k]['trigger'] == 'periodic, every 1 s', 'trigger %r' % C[k]['trigger'])
    need(lost(C[k]) == [], 'check %d lost %s' % (k, lost(C[k])))
"
}

# ------------------------------------------------------------ bad input

have lr_service "bad leak check options" && {
	OPTS="leak_check_signal=SIGFOO:leak_check_mode=some:leak_check_interval=-1:leak_check_growth=65" \
		prun badopts "$B/lr_service" api 1
	status_is "bad leak check options: the program runs" 0 &&
	lr "bad leak check options: one warning line each, defaults kept" "
err = open(RD + '/err').read().splitlines()
want = ['bad value \\'leak_check_signal=SIGFOO\\'', 'bad value \\'leak_check_mode=some\\'',
        'bad value \\'leak_check_interval=-1\\'', 'bad value \\'leak_check_growth=65\\'']
for w in want:
    need(sum(w in l for l in err) == 1, 'no single warning %s in %s' % (w, err))
need(sorted(C) == [1] and C[1]['trigger'] == 'mp_leak_check', 'checks %s' % sorted(C))
"
	# SIGUSR2 ignored by the parent (kept across exec): the program's choice
	RD=$T/run/ignored
	mkdir -p "$RD"
	(cd "$RD" && trap '' USR2 && exec env LD_PRELOAD="$MPWRAP_LIB" \
		MPWRAP_OPTIONS="leak_check_signal=SIGUSR2:log_path=$RD/r.%p.log" \
		"$B/lr_service" api 1 >"$RD/out" 2>"$RD/err")
	rc=$?
	status_is "leak_check_signal ignored by the program" 0 &&
	lr "leak_check_signal=SIGUSR2 that the program ignores: left alone, said once" "
need(LOG.count('leak_check_signal=SIGUSR2: the program handles or ignores it; no leak checks on it') == 1, 'not said once')
"
}

# ------------------------------------------------------------ termination

# start_service DIR MODE: lr_service MODE in the background ($pid), once
# it said "ready" (a wait for an event, 10 s at most, not a delay).
start_service() {
	local i
	# a background job of a shell without job control starts with SIGINT
	# and SIGQUIT ignored, and under nohup (make test's too) with SIGHUP
	# ignored, which the library rightly leaves alone: the service gets the
	# default back, as a program started from a terminal
	(cd "$1" && exec env --default-signal=HUP,INT,QUIT LD_PRELOAD="$MPWRAP_LIB" \
		MPWRAP_OPTIONS="json_path=$1/r.%p.json:log_path=$1/r.%p.log${OPTS:+:$OPTS}" \
		"$B/lr_service" "$2" "$1" >"$1/out" 2>"$1/err") &
	pid=$!
	for ((i = 0; i < 1000; i++)); do
		grep -q ready "$1/out" 2>/dev/null && break
		sleep 0.01
	done
}

# reap PID: its exit status in rc; one that has not ended after 30 s is
# killed (rc 137 then fails the check that follows, never a hung suite)
reap() {
	local i
	for ((i = 0; i < 3000; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.01
	done
	kill -0 "$1" 2>/dev/null && { pkill -9 -P "$1"; kill -9 "$1"; } 2>/dev/null
	{ wait "$1"; } 2>/dev/null
	rc=$?
}

# serve NAME SIG STATUS: start the service, wait for "ready", send SIG,
# expect STATUS and the full report with the 300 lost bytes.
serve() {
	local name=$1 sig=$2 want=$3 i
	RD=$T/run/$name
	mkdir -p "$RD"
	start_service "$RD" serve
	kill -"$sig" "$pid"
	reap "$pid"
	status_is "$name: dies of SIG$sig" "$want" &&
	lr "$name: SIG$sig gives the full report (exact lost blocks, JSON), then the process dies of it" "
need(not C, 'no check reports: %s' % sorted(C))
need(X is not None and any(re.match(r'mpwrap: the program is dying of SIG$sig \(\d+\) sent by pid \d+', l)
     for l in X['lines']), 'no dying line')
want = sorted([('definite', 100, 1, 'leak_first'), ('definite', 200, 1, 'leak_third')])
need(X and lost(X) == want, 'lost %s' % (X and lost(X)))
J = exit_json()
need(len(J) == 1 and J[0]['summary']['leaks']['definite'] == {'bytes': 300, 'blocks': 2},
     'JSON %s' % [j['summary']['leaks'] for j in J])
"
}
if have lr_service "termination signals"; then
	# SIGTERM lands on a worker, mostly inside malloc or free: 4 times
	for i in 1 2 3 4; do serve term$i TERM 143; done
	serve int INT 130
	serve hup HUP 129
	ulimit -c 0
	serve quit QUIT 131
fi

if have lr_service "the program's own handler"; then
	RD=$T/run/own
	mkdir -p "$RD"
	start_service "$RD" own
	kill -TERM "$pid"
	{ wait "$pid"; } 2>/dev/null
	rc=$?
	status_is "the program's own SIGTERM handler wins" 7 &&
	lr "the program's own SIGTERM handler wins; sigaction and signal show it SIG_DFL before" "
need(open(RD + '/out').read() == 'SIGTERM was SIG_DFL\\nSIGINT was SIG_DFL\\nready\\nown handler\\n',
     'stdout %r' % open(RD + '/out').read())
need('dying of' not in LOG, 'a termination report was written')
need(X and lost(X) == sorted([('definite', 100, 1, 'leak_first'), ('definite', 200, 1, 'leak_third')]),
     'its _exit(7) report %s' % (X and lost(X)))
"
fi

# ------------------------------------------------------------ LSan's interface

have lr_lsan "LeakSanitizer's interface" && {
	OPTS="show_reachable=1" prun lsan "$B/lr_lsan" checks
	status_is "LSan interface: recoverable checks" 0 &&
	lr "__lsan_ignore_object, __lsan_disable/enable, root regions, suppressions, recoverable checks" "
out = open(RD + '/out').read().splitlines()
need(out == ['clean 0', 'registered 1', 'unregistered 1'], 'program printed %s' % out)
need(sorted(C) == [1, 2, 3], 'checks %s' % sorted(C))
need(all(C[k]['trigger'] == '__lsan_do_recoverable_leak_check' for k in C), 'triggers')
need(lost(C[1]) == [], 'check 1 lost %s' % lost(C[1]))
need(lost(C[2]) == [('definite', 88, 1, 'leaked_site')], 'check 2 lost %s' % lost(C[2]))
need(lost(C[3]) == sorted([('definite', 88, 1, 'leaked_site'), ('definite', 56, 1, 'region_site')]),
     'check 3 lost %s' % lost(C[3]))
for k in (2, 3):
    need(C[k]['summary'].get('suppressed') == (72, 1), 'check %d suppressed %s' % (k, C[k]['summary']))
    reach = {(b, f) for _, kind, b, n, f in C[k]['leaks'] if kind == 'reachable'}
    need({(40, 'ignored_site'), (24, 'ignored_site'), (32, 'disabled_site')} <= reach,
         'check %d: ignored, disabled and their children reachable: %s' % (k, reach))
    need(((56, 'region_site') in reach) == (k == 2), 'check %d: region block %s' % (k, reach))
need('kept reachable by a root region (__lsan_register_root_region)' in LOG, 'root region keeper')
need('kept reachable by a block ignored by __lsan_ignore_object or __lsan_disable' in LOG, 'ignored keeper')
need('__lsan_unregister_root_region: no such region registered' in LOG, 'bad unregister not said')
need('__lsan_enable without __lsan_disable: ignored' in LOG, 'unmatched enable not said')
need('suppressed_site' not in LOG, 'a suppressed stack is printed')
J = exit_json()
need(len(J) == 1 and J[0]['summary']['suppressed_by_program'] == {'bytes': 72, 'blocks': 1},
     'JSON suppressed %s' % [j['summary'].get('suppressed_by_program') for j in J])
"
	OPTS="exitcode=23" prun lsan.once "$B/lr_lsan" once
	status_is "__lsan_do_leak_check exits with exitcode" 23 &&
	lr "__lsan_do_leak_check: the exit report now, once, then exitcode" "
need(open(RD + '/out').read() == '', 'the program went on after it')
need(LOG.count('LEAK SUMMARY:') == 1 and X and lost(X) == [('definite', 88, 1, 'leaked_site')],
     'report %s' % (X and lost(X)))
"
	prun lsan.once0 "$B/lr_lsan" once
	status_is "__lsan_do_leak_check without exitcode" 0 &&
	lr "__lsan_do_leak_check twice: one report, the program continues, no second at exit" "
need(open(RD + '/out').read() == 'after\n', 'stdout %r' % open(RD + '/out').read())
need(LOG.count('LEAK SUMMARY:') == 1, '%d reports' % LOG.count('LEAK SUMMARY:'))
"
	LR_OFF=1 prun lsan.off "$B/lr_lsan" checks
	status_is "__lsan_is_turned_off" 0 &&
	lr "the program's __lsan_is_turned_off: no checks, no leak report" "
need(open(RD + '/out').read().splitlines() == ['clean 0', 'registered 0', 'unregistered 0'], 'stdout')
need(not C and 'definitely lost' not in LOG, 'a leak report was written')
need('no leak check: the program' in LOG, 'not said')
"
}

# ------------------------------------------------------------ under mpcheck

MPCHECK=$MPWRAP_ROOT/scripts/mpcheck
if have lr_service "a daemon under mpcheck"; then
	for sig in TERM INT; do
		RD=$T/run/mpcheck.$sig
		mkdir -p "$RD"
		# with SIGTERM, one periodic check first (--check-every 1)
		every=()
		[ $sig = TERM ] && every=(--check-every 1)
		# (the library's text goes to --log-file: mpcheck keeps it off
		# the program's stderr)
		(cd "$RD" && exec env --default-signal=HUP,INT,QUIT MPWRAP_LIB="$MPWRAP_LIB" \
			"$MPCHECK" "${every[@]}" --log-file "$RD/text.%p.log" \
			--json "$RD/agg.json" -- "$B/lr_service" serve "$RD" >"$RD/out" 2>"$RD/err") &
		pid=$!
		for ((i = 0; i < 1000; i++)); do
			grep -q ready "$RD/out" 2>/dev/null &&
				{ [ $sig != TERM ] || cat "$RD"/text.*.log 2>/dev/null |
					grep -q "end of leak check #1:"; } && break
			sleep 0.01
		done
		kill -$sig "$pid" # mpcheck's pid: it passes the signal on
		reap "$pid"
		status_is "mpcheck: a service stopped by SIG$sig, gate fails" 23 &&
		lr "mpcheck passes SIG$sig on; the service reports and dies of it; the verdict is written" "
err = open(RD + '/err').read()
text = ''.join(open(p).read() for p in glob.glob(RD + '/text.*.log'))
need(re.search(r'mpwrap: the program is dying of SIG$sig', text), 'no dying line')
need(('$sig' != 'TERM') == (re.search(r'mpwrap: leak check #1 \\(periodic, every 1 s\\)', text) is None),
     'periodic check with --check-every only')
need('==' not in err, 'library text on the stderr of mpcheck: %r' % err[:300])
need(re.search(r'mpcheck: .*2 leaks \\(300 bytes\\).*gate: FAIL', err), 'summary: %r' % err[-400:])
A = json.load(open(RD + '/agg.json'))
need(A['summary']['gate'] == 'FAIL', 'gate %s' % A['summary'].get('gate'))
need(not glob.glob(RD + '/r.*'), 'the service wrote reports of its own')
"
	done
	(cd "$T" && "$MPCHECK" --check-every 0 -- true >"$T/ce.out" 2>"$T/ce.err")
	rc=$?
	if [ "$rc" = 125 ] && [ "$(head -n 1 "$T/ce.err")" = "mpcheck: --check-every: expected an integer 1..31536000, got '0'" ]; then
		pass "mpcheck --check-every 0: one line, status 125"
	else
		fail "mpcheck --check-every 0: one line, status 125" "status $rc" "$(cat "$T/ce.err")"
	fi
fi

# docs/ci.md's recipe "Checking a service", its step run as written (bash
# -e, as GitHub runs it) in a directory with the repository's scripts/ and
# build/: the gate fails on the 64 bytes `stats` leaks (definite, or possible
# when a stale interior pointer lies below the stack pointer where the
# service waits: the recipe gates on both).
RD=$T/run/recipe
mkdir -p "$RD"
ln -s "$MPWRAP_ROOT/scripts" "$RD/scripts"
ln -s "$MPWRAP_ROOT/build" "$RD/build"
if ! python3 - "$MPWRAP_ROOT/docs/ci.md" "$RD/step.sh" <<'PY'
import re, sys, yaml
text = open(sys.argv[1]).read()
for block in re.findall(r"^```yaml\n(.*?)^```", text, re.S | re.M):
    doc = yaml.safe_load(block)
    for st in (doc.get("jobs") or {}).get("service-gate", {}).get("steps", []):
        if st.get("name", "").startswith("Check the service"):
            open(sys.argv[2], "w").write(st["run"])
            sys.exit(0)
sys.exit(1)
PY
then
	fail "docs/ci.md: the service recipe is there" "no service-gate step"
elif [ ! -x "$MPWRAP_ROOT/build/service" ]; then
	fail "docs/ci.md: the service recipe runs as written" "build/service missing (make build/service)"
else
	(cd "$RD" && MPWRAP_LIB="$MPWRAP_LIB" timeout -k 5 60 bash -e step.sh >"$RD/out" 2>"$RD/err")
	rc=$?
	status_is "docs/ci.md: the service recipe runs as written" 23 &&
	lr "docs/ci.md: the service recipe: SIGTERM report, verdict FAIL on the 64 bytes stats leaks" "
out = open(RD + '/out').read()
need(out == 'remember alpha -> ok\\nremember beta -> ok\\nstats -> 2 words\\nhello -> hello\\n', 'client %r' % out)
err = open(RD + '/err').read()
need('mpwrap: the program is dying of SIGTERM (15)' in err, 'no dying line')
need(re.search(r'64 bytes in 1 block is (definitely|possibly) lost, allocated from:\\n.*#0 0x[0-9a-f]+ in handle ', err), 'no leak in handle')
need('mpcheck: 0 errors, 1 leaks (64 bytes)' in err and 'gate: FAIL' in err, 'verdict %r' % err[-300:])
"
fi

# ------------------------------------------------------------ libmempool.a

have lr_static "mp_leak_check in libmempool.a" && {
	RD=$T/run/static
	mkdir -p "$RD"
	(cd "$RD" && MPWRAP_OPTIONS=log_path=$RD/r.%p.log "$B/lr_static" >"$RD/out" 2>"$RD/err")
	rc=$?
	status_is "mp_leak_check in libmempool.a" 0 &&
	lr "mp_leak_check in libmempool.a: no classification, every live block counted" "
need(open(RD + '/out').read().splitlines() == ['check 1 rc 2 definite 300/2 classified 0'],
     'stdout %r' % open(RD + '/out').read())
need('live blocks: 300 bytes in 2 blocks' in LOG, 'listing: %r' % LOG[-300:])
"
}

echo "# $((SECONDS - start)) s"
echo "1..$n"
[ "$failed" = 0 ]
