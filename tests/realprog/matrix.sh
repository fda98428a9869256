#!/usr/bin/env bash
# matrix.sh - the real-program matrix of issue 24: ~40 workloads of Debian
# programs (servers on 127.0.0.1 driven by a bounded client loop and stopped
# with SIGTERM, interpreters, tools, and the issue's own shapes), each run
# plainly and under LD_PRELOAD=$MPWRAP_LIB, compared on exit statuses, stdout
# and stderr, wall time and the library's error reports.
#
# Not part of `make test`: it installs packages (apt-get, as root) and takes
# minutes.  A workload whose program cannot be installed is skipped with one
# line saying so.  Every process runs under `timeout 60`; all network traffic
# is on 127.0.0.1 (ports picked free at run time).
#
# Usage: bash tests/realprog/matrix.sh [--no-install] [--reps N] [--keep]
#                                      [--only name,name...] [--list]
# Env: MPWRAP_LIB (default: libmpwrap.so of this checkout), MATRIX_OUT
# (default: build/matrix): the table goes to $MATRIX_OUT/table.md and to
# stdout, each workload's outputs, reports and diffs to $MATRIX_OUT/NAME/.
#
# Per workload: a fresh directory, prep_NAME (plain, untimed), then run_NAME
# timed, alternately plain and preloaded (P L P L P L), REPS times each (only
# once when the first plain run took more than 8 s); the first run of each
# mode is the one compared.  Statuses are those of every process started
# through X (sorted: a pipeline's order of exits is not deterministic);
# stdout and stderr have the run's directory and port replaced by <W> and
# <PORT>.  "identical" = same statuses, same stdout, same stderr.  When the
# two plain runs differ from each other the row says "nondeterministic".
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${MPWRAP_LIB:=$root/libmpwrap.so}"
LIB=$(cd "$(dirname "$MPWRAP_LIB")" && pwd)/$(basename "$MPWRAP_LIB")
OUT=${MATRIX_OUT:-$root/build/matrix}
RP=$here
TMO=60
REPS=3
INSTALL=1
KEEP=0
ONLY=""
LIST=0
while [ $# -gt 0 ]; do
	case $1 in
	--no-install) INSTALL=0 ;;
	--reps) REPS=$2; shift ;;
	--keep) KEEP=1 ;;
	--only) ONLY=",$2,"; shift ;;
	--list) LIST=1 ;;
	*) echo "matrix.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

unset LD_PRELOAD MPWRAP_OPTIONS
export LC_ALL=C TZ=UTC

# shellcheck source=lib.sh
. "$RP/lib.sh"
PY=$(find_python)
export RP PY

# ------------------------------------------------------------ the workloads
# name|packages (apt)|commands needed|description
WORKLOADS=(
	"nginx|nginx-light curl|nginx curl|nginx (master + 2 workers) on 127.0.0.1, 5 curl runs x 10 GETs, SIGTERM"
	"lighttpd|lighttpd curl|lighttpd curl|lighttpd -D on 127.0.0.1, 5 curl runs x 10 GETs, SIGTERM"
	"redis|redis-server redis-tools|redis-server redis-cli redis-benchmark|redis-server, redis-cli set/get/lists, redis-benchmark -n 2000, SIGTERM"
	"memcached|memcached|memcached|memcached, a bash /dev/tcp client (set/get/incr x 50), SIGTERM"
	"postgres|postgresql|initdb postgres pgbench psql|initdb, postgres, pgbench -i -s 1, pgbench -c 2 -t 50, psql, SIGTERM (as postgres, setpriv)"
	"python|python3||python3 workload.py (threads, dicts, re, json) (lib.sh)"
	"python_stdlib|python3||python3: sqlite3, zlib, hashlib, subprocess of /bin/true"
	"perl|perl|perl|perl workload.pl (lib.sh)"
	"php|php-cli|php|php -r: arrays, preg, json, sort of 20000 items"
	"ruby|ruby|ruby|ruby -e: hashes, strings, sort of 20000 items"
	"java|default-jdk-headless|java javac|java -version and a small class (compiled plainly)"
	"javac|default-jdk-headless|javac|javac compiling a small class"
	"emacs|emacs-nox|emacs|emacs -Q --batch: hash tables, buffers, regexps"
	"bash|bash|bash|bash -c: arrays, associative arrays, expansions (lib.sh)"
	"bash_subshells|bash|bash|bash: 200 subshells and a 1 MB \$(...) capture after a 20000-element array"
	"dash|dash|dash|dash: loops, here-documents, command substitution"
	"git|git|git|git init/config/add/commit x2/log --stat (lib.sh)"
	"sqlite|sqlite3|sqlite3|sqlite3: 5000 inserts, aggregates (lib.sh)"
	"gcc|gcc|gcc|gcc -O2 -Wall hello.c (cc1, as, collect2, ld) (lib.sh)"
	"cxx|g++|g++|a C++ program (STL containers, exceptions), built plainly (lib.sh)"
	"make|make|make|make with a two-rule Makefile (lib.sh)"
	"sort|coreutils|sort|sort --parallel=2 of 175000 lines (lib.sh)"
	"coreutils|coreutils|sort uniq cut|sort | uniq -c | sort -rn, cut, tr, sha256sum, wc on 50000 lines"
	"sed_awk|sed mawk|sed mawk|sed -E substitutions, mawk associative arrays on 50000 lines"
	"mawk_fclose|mawk|mawk|mawk: close() of a pipe and files, printf to many files"
	"grep|grep|grep|grep -r -c and -E over a 300-file tree"
	"find_xargs|findutils|find xargs|find -type f -print0 | xargs -0 -n 20 wc -l"
	"diff_patch|diffutils patch|diff patch|diff -u of two 20000-line files, patch applies it"
	"tar|tar gzip|tar gzip|tar czf / xzf of a 300-file tree (lib.sh)"
	"gzip|gzip|gzip|gzip -9 / gzip -d round trip of 8 MB"
	"xz|xz-utils|xz|xz -6 / xz -d round trip of 8 MB (threads: -T2)"
	"bzip2|bzip2|bzip2|bzip2 / bzip2 -d round trip of 8 MB"
	"openssl|openssl|openssl|openssl dgst -sha256 of 4 MB (lib.sh)"
	"openssl_speed|openssl|openssl|openssl speed -seconds 1 sha256 (names of the results only)"
	"openssl_enc|openssl|openssl|openssl enc -aes-256-cbc -pbkdf2 round trip of 4 MB, genpkey ec"
	"jq|jq|jq|jq on a 5000-object JSON array: group_by, map, select"
	"busybox|busybox|busybox|busybox sort, uniq, sed, awk, md5sum, tar, gzip"
	"curl_file|curl|curl|curl file:// of a 4 MB file and -w fields"
	"yes_head|coreutils|yes head|yes | head -1 (yes dies of SIGPIPE), 20 times"
	"ulimit_f|gcc python3|gcc|gcc -O2 and python3 under ulimit -f 24 (cc1's JSON report is larger than the limit)"
	"ulimit_v|gcc python3|gcc|a program mallocing 700 x 1 MiB and python3 under ulimit -v 1G"
	"stack16k|gcc|gcc|pthread_create with 16 KiB stacks: malloc, printf, exit from the thread"
)

# ------------------------------------------------------------ helpers
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_for SECONDS CMD...: poll (plainly) until CMD succeeds
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	echo "wait_for: '$*' never succeeded" >&2
	return 1
}
# start_bg NAME CMD...: a server in the background through the runner;
# its output goes to NAME.log (not compared: timestamps and pids)
start_bg() {
	local name=$1
	shift
	"${RUNNER[@]}" "$@" >"$name.log" 2>&1 &
	echo $! >"$name.pid"
}
# stop_bg NAME: SIGTERM (timeout(1) passes it on), wait, record the status
stop_bg() {
	local pid rc
	pid=$(cat "$1.pid")
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	echo "$rc" >>"$STATUS_FILE"
	echo "$1 stopped"
}
port() { cat .port; }
new_port() { free_port >.port; }

# ------------------------------------------------------------ servers
prep_www() {
	mkdir -p www
	gen_lines 200 5 >www/index.html
	gen_lines 3000 6 >www/big.txt
}
curl_loop() { # PORT: 5 curl runs x 10 GETs, bodies hashed
	local p=$1 i urls=()
	for i in 1 2 3 4; do
		urls+=("http://127.0.0.1:$p/index.html" "http://127.0.0.1:$p/big.txt")
	done
	urls+=("http://127.0.0.1:$p/missing")
	for i in 1 2 3 4 5; do
		X curl -s -S --max-time 20 -w '\n=%{http_code} %{size_download}\n' \
			"${urls[@]}" "http://127.0.0.1:$p/" >body.$i
		grep '^=' body.$i | sort | uniq -c | tr -s ' ' | tr '\n' ' '
		sha256sum <body.$i | cut -c1-16
	done
}

prep_nginx() {
	prep_www
	new_port
	mkdir -p logs tmp
	cat >nginx.conf <<EOF
daemon off;
master_process on;
worker_processes 2;
user root;
pid $PWD/nginx.pid.file;
error_log $PWD/logs/error.log;
events { worker_connections 64; }
http {
	access_log $PWD/logs/access.log;
	client_body_temp_path $PWD/tmp;
	server {
		listen 127.0.0.1:$(port);
		root $PWD/www;
		location / { }
	}
}
EOF
}
run_nginx() {
	start_bg nginx nginx -p "$PWD/" -c "$PWD/nginx.conf"
	wait_for 20 curl -sf "http://127.0.0.1:$(port)/index.html" || { stop_bg nginx; return 1; }
	curl_loop "$(port)"
	stop_bg nginx
}

prep_lighttpd() {
	prep_www
	new_port
	cat >lighttpd.conf <<EOF
server.document-root = "$PWD/www"
server.bind = "127.0.0.1"
server.port = $(port)
server.errorlog = "$PWD/lighttpd.err"
server.max-worker = 0
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".txt" => "text/plain" )
EOF
}
run_lighttpd() {
	start_bg lighttpd lighttpd -D -f "$PWD/lighttpd.conf"
	wait_for 20 curl -sf "http://127.0.0.1:$(port)/index.html" || { stop_bg lighttpd; return 1; }
	curl_loop "$(port)"
	stop_bg lighttpd
}

prep_redis() { new_port; }
run_redis() {
	local p
	p=$(port)
	start_bg redis redis-server --port "$p" --bind 127.0.0.1 --save '' \
		--appendonly no --dir "$PWD" --daemonize no --logfile "$PWD/redis.out"
	wait_for 20 redis-cli -p "$p" ping || { stop_bg redis; return 1; }
	local i
	for i in 1 2 3 4 5; do
		X redis-cli -p "$p" set "k$i" "value-$i-$(printf '%0200d' "$i")" >/dev/null
		X redis-cli -p "$p" rpush lst "a$i" "b$i" "c$i"
	done
	X redis-cli -p "$p" get k3 | cut -c1-20
	X redis-cli -p "$p" lrange lst 0 -1 | tr '\n' ' '; echo
	X redis-cli -p "$p" incrby ctr 41
	X redis-benchmark -p "$p" -n 2000 -c 5 -t set,get,lpush,incr --csv -q | cut -d, -f1
	X redis-cli -p "$p" dbsize
	stop_bg redis
}

prep_memcached() { new_port; }
MC_CLIENT='exec 3<>/dev/tcp/127.0.0.1/$1
for ((i = 0; i < 50; i++)); do
	v="value-$i-$((i * i))"
	printf "set key%d 0 0 %d\r\n%s\r\n" "$i" "${#v}" "$v" >&3
	read -r r <&3; r=${r%?}; [ "$i" -lt 2 ] && echo "set: $r"
done
printf "get key7 key49\r\n" >&3
for j in 1 2 3 4 5; do read -r r <&3; echo "get: ${r%?}"; done
printf "set ctr 0 0 1\r\n5\r\nincr ctr 37\r\n" >&3
read -r r <&3; read -r r <&3; echo "incr: ${r%?}"
printf "quit\r\n" >&3'
run_memcached() {
	local p
	p=$(port)
	start_bg memcached memcached -l 127.0.0.1 -p "$p" -U 0 -u root -m 16 -t 2
	wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" || { stop_bg memcached; return 1; }
	X bash -c "$MC_CLIENT" mc "$p"
	stop_bg memcached
}

PGU=(setpriv --reuid=postgres --regid=postgres --init-groups)
PGBIN=/usr/lib/postgresql/15/bin
prep_postgres() {
	new_port
	chmod 755 .
	mkdir -p sock
	chown postgres: . sock
}
pg_filter() { # the parts of pgbench's report that do not depend on time
	grep -E '^(scaling factor|query mode|number of clients|number of threads|number of transactions (per client|actually processed)|number of failed)' || true
}
run_postgres() {
	local p
	p=$(port)
	X "${PGU[@]}" "$PGBIN/initdb" -D "$PWD/data" -A trust -U postgres --no-sync \
		-E UTF8 --locale=C >initdb.log 2>&1
	grep -E '^(The database cluster|The default)' initdb.log
	start_bg postgres "${PGU[@]}" "$PGBIN/postgres" -D "$PWD/data" -p "$p" -k "$PWD/sock" \
		-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=20
	wait_for 30 "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$p" || { stop_bg postgres; return 1; }
	X "${PGU[@]}" "$PGBIN/pgbench" -h 127.0.0.1 -p "$p" -i -s 1 -q postgres >pgbench-i.log 2>&1
	echo "pgbench -i status $?"
	X "${PGU[@]}" "$PGBIN/pgbench" -h 127.0.0.1 -p "$p" -c 2 -j 2 -t 50 postgres 2>pgbench.err | pg_filter
	X "${PGU[@]}" "$PGBIN/psql" -h 127.0.0.1 -p "$p" -At -c \
		'select count(*), sum(abalance) = (select sum(delta) from pgbench_history) from pgbench_accounts' postgres
	stop_bg postgres
}

# ------------------------------------------------------------ interpreters
prep_python_stdlib() { :; }
run_python_stdlib() {
	X "$PY" -c '
import sqlite3, zlib, hashlib, subprocess, json
db = sqlite3.connect(":memory:")
db.execute("create table t (a integer, b text)")
db.executemany("insert into t values (?, ?)", [(i, "x%d" % (i * 7 % 1000)) for i in range(20000)])
print(db.execute("select count(*), count(distinct b), sum(a) from t").fetchone())
data = json.dumps([{"i": i, "s": str(i) * 5} for i in range(5000)]).encode()
z = zlib.compress(data, 9)
print(len(data), zlib.decompress(z) == data, hashlib.sha256(data).hexdigest()[:16])
print(subprocess.run(["/bin/true"]).returncode)
'
}

prep_php() { :; }
run_php() {
	X php -n -r '
$a = [];
for ($i = 0; $i < 20000; $i++) { $a[] = ($i * 7919) % 10007; $m["k" . ($i % 97)][] = $i; }
sort($a);
echo $a[0], " ", $a[19999], " ", count($m), "\n";
$s = str_repeat("alpha beta gamma ", 2000);
echo preg_match_all("/\\b(\\w+)a\\b/", $s, $mm), "\n";
$j = json_encode(array_slice($m, 0, 3));
echo strlen($j), " ", md5($j), "\n";
echo count(json_decode($j, true)), "\n";
'
}

prep_ruby() { :; }
run_ruby() {
	X ruby -e '
a = (0...20000).map { |i| (i * 7919) % 10007 }.sort
h = Hash.new { |hh, k| hh[k] = [] }
20000.times { |i| h["k#{i % 97}"] << i }
puts "#{a.first} #{a.last} #{h.size}"
s = "alpha beta gamma " * 2000
puts s.scan(/\b(\w+)a\b/).size
puts h.values.map(&:size).sum
'
}

JAVA_SRC='import java.util.*;
public class Hello {
	public static void main(String[] args) {
		Map<String, List<Integer>> m = new TreeMap<>();
		for (int i = 0; i < 20000; i++)
			m.computeIfAbsent("k" + (i % 97), k -> new ArrayList<>()).add(i);
		StringBuilder sb = new StringBuilder();
		for (int i = 0; i < 5000; i++) sb.append(i % 10);
		System.out.println(m.size() + " " + m.get("k5").size() + " " + sb.length() + " " + sb.toString().hashCode());
	}
}'
prep_java() { printf '%s\n' "$JAVA_SRC" >Hello.java && javac Hello.java; }
run_java() {
	X java -version
	X java -Xmx128m -cp . Hello
}
prep_javac() { printf '%s\n' "$JAVA_SRC" >Hello.java; }
run_javac() { X javac Hello.java && ls Hello.class; }

prep_emacs() { :; }
run_emacs() {
	X emacs -Q --batch --eval '
(let ((h (make-hash-table :test (quote equal))) (n 0))
  (dotimes (i 20000) (puthash (format "k%d" (% i 97)) i h))
  (with-temp-buffer
    (dotimes (i 3000) (insert (format "line %d alpha beta\n" i)))
    (goto-char (point-min))
    (while (re-search-forward "^line \\([0-9]*7\\) " nil t) (setq n (1+ n)))
    (princ (format "%d %d %d\n" (hash-table-count h) n (buffer-size)))))'
}

# ------------------------------------------------------------ shells
prep_bash_subshells() { :; }
BASH_SUB='a=(); for ((i = 0; i < 20000; i++)); do a+=("element-$i"); done
n=0; for ((i = 0; i < 200; i++)); do x=$(echo "${a[i]}"); n=$((n + ${#x})); done
big=$(for ((i = 0; i < 20000; i++)); do echo "line $i of the capture ......................."; done)
echo "n=$n big=${#big} last=${a[19999]}"
( cd / && echo "subshell pwd=$PWD" ); echo "exit of a subshell: $(exit 3; echo no) $?"'
run_bash_subshells() { X bash -c "$BASH_SUB"; }

prep_dash() { :; }
run_dash() {
	X dash -c '
i=0; s=0
while [ $i -lt 3000 ]; do s=$((s + i * i % 7)); i=$((i + 1)); done
echo "s=$s"
cat <<EOF
here-doc $s $(echo nested $((s % 11)))
EOF
for w in alpha beta gamma; do printf "%s:%d\n" "$w" "${#w}"; done'
}

# ------------------------------------------------------------ tools
prep_coreutils() { gen_lines 50000 11 >data.txt; }
run_coreutils() {
	X cut -d' ' -f2 data.txt | X sort | X uniq -c | X sort -rn | head -3
	X tr 'a-z' 'A-Z' <data.txt | X sha256sum
	X wc -lwc data.txt
}

prep_sed_awk() { gen_lines 50000 12 >data.txt; }
run_sed_awk() {
	X sed -E 's/line-([0-9]+)/L\1/; s/^([0-9]+) /<\1> /' data.txt | X sha256sum
	X mawk '{ c[$2]++; s[$2] += length($4) } END { for (k in c) print k, c[k], s[k] }' data.txt | sort
}

prep_mawk_fclose() { gen_lines 2000 13 >data.txt; }
run_mawk_fclose() {
	X mawk '{ f = "out." ($1 % 16); print $3 > f; n[f]++ }
	END {
		for (f in n) close(f)
		cmd = "sort | head -2"; print "b" | cmd; print "a" | cmd; close(cmd)
		while ((getline l < "out.3") > 0) m++; close("out.3")
		print "read", m
	}' data.txt
	cat out.* | sha256sum
}

prep_grep() { TAR_FILES=300 prep_tar; }
run_grep() {
	X grep -r -c 'alpha' tree | sort | sha256sum
	X grep -r -E -h 'line-(1|2)[0-9] ' tree | sort | head -3
	X grep -r -l -F 'zeta' tree | wc -l
}

prep_find_xargs() { TAR_FILES=300 prep_tar; }
run_find_xargs() {
	X find tree -type f -print0 | X xargs -0 -n 20 wc -l | grep -v total | sort -k2 | sha256sum
	X find tree -name '*7.txt' | sort | head -3
}

prep_diff_patch() {
	gen_lines 20000 14 >a.txt
	sed '100~97s/alpha/ALPHA/; 500~211d' a.txt >b.txt
}
run_diff_patch() {
	X diff -u a.txt b.txt >d.patch
	echo "diff status $?"
	wc -l <d.patch
	cp a.txt c.txt
	X patch -s c.txt d.patch
	cmp b.txt c.txt && echo "patched identical"
}

prep_big() { gen_lines 90000 15 >data.txt; }  # ~8 MB
prep_gzip() { prep_big; }
run_gzip() { X gzip -9 -c data.txt >d.gz && X gzip -d -c d.gz | cmp - data.txt && wc -c <d.gz; }
prep_xz() { prep_big; }
run_xz() { X xz -6 -T2 -c data.txt >d.xz && X xz -d -c d.xz | cmp - data.txt && wc -c <d.xz; }
prep_bzip2() { prep_big; }
run_bzip2() { X bzip2 -c data.txt >d.bz2 && X bzip2 -d -c d.bz2 | cmp - data.txt && wc -c <d.bz2; }

prep_openssl_speed() { :; }
run_openssl_speed() {
	X openssl speed -seconds 1 -bytes 1024 sha256 >speed.out 2>speed.err
	echo "status $?"
	grep -o '^sha256' speed.out
}

prep_openssl_enc() { DGST_MB=4 prep_openssl; }
run_openssl_enc() {
	X openssl enc -aes-256-cbc -pbkdf2 -pass pass:matrix -S 0102030405060708 -in data.bin -out d.enc &&
		X openssl enc -d -aes-256-cbc -pbkdf2 -pass pass:matrix -in d.enc | cmp - data.bin && sha256sum <d.enc
	X openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.pem &&
		X openssl pkey -in k.pem -noout -check
}

prep_jq() {
	"$PY" -c 'import json; print(json.dumps([{"id": i, "g": "g%d" % (i % 13), "v": i * 7 % 101, "tags": ["t%d" % (i % 5)] * (i % 3)} for i in range(5000)]))' >data.json
}
run_jq() {
	X jq -c 'group_by(.g) | map({g: .[0].g, n: length, s: (map(.v) | add)}) | .[0:3]' data.json
	X jq '[.[] | select(.v > 90 and (.tags | length) == 2)] | length' data.json
	X jq -r '.[100:103][] | "\(.id) \(.g) \(.tags | join(","))"' data.json
}

prep_busybox() { gen_lines 20000 16 >data.txt; TAR_FILES=60 prep_tar; }
run_busybox() {
	X busybox sort -k2 data.txt | X busybox uniq | X busybox md5sum
	X busybox sed -e 's/alpha/A/g' data.txt | X busybox awk '{ n[$2]++ } END { for (k in n) print k, n[k] }' | sort
	X busybox tar cf t.tar tree && X busybox gzip -9 t.tar && X busybox tar tzf t.tar.gz | wc -l
	X busybox wc -l data.txt
}

prep_curl_file() { DGST_MB=4 prep_openssl; }
run_curl_file() {
	X curl -s -o copy.bin -w '%{size_download} %{response_code}\n' "file://$PWD/data.bin"
	cmp copy.bin data.bin && echo same
}

# ------------------------------------------------------------ issue 24 shapes
prep_yes_head() { :; }
run_yes_head() {
	local i
	for i in $(seq 1 20); do X yes | X head -1; done | uniq -c
}

prep_ulimit_f() { cp "$RP/hello.c" .; }
run_ulimit_f() {
	(
		ulimit -f 24
		X gcc -O2 -Wall -o hello hello.c && ./hello | head -3
		X "$PY" "$RP/workload.py" 4 | tail -2
	)
}

ASLIMIT_C='#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
	int n = 0;
	for (; n < 700; n++) {
		char *p = malloc(1 << 20);
		if (!p) break;
		memset(p, n, 4096);
	}
	printf("allocated %d MiB\n", n);
	return n == 700 ? 0 : 1;
}'
prep_ulimit_v() { printf '%s\n' "$ASLIMIT_C" >aslimit.c && gcc -O2 -o aslimit aslimit.c; }
run_ulimit_v() {
	(
		ulimit -v 1048576
		X ./aslimit
		X "$PY" -c 'b = [bytearray(1 << 20) for i in range(300)]; print(len(b))'
	)
}

STACK16_C='#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void *work(void *arg) {
	char *p = malloc(100);
	snprintf(p, 100, "thread %ld", (long)arg);
	printf("%s\n", p);
	fflush(stdout);
	free(p);
	if ((long)arg == 3) exit(6);
	return NULL;
}
int main(void) {
	pthread_attr_t a;
	pthread_attr_init(&a);
	int rc = pthread_attr_setstacksize(&a, 16384);
	printf("setstacksize %d\n", rc);
	for (long i = 0; i < 4; i++) {
		pthread_t t;
		rc = pthread_create(&t, &a, work, (void *)i);
		if (rc) { printf("pthread_create: %s\n", strerror(rc)); return 1; }
		pthread_join(t, NULL);
	}
	return 0;
}'
prep_stack16k() { printf '%s\n' "$STACK16_C" >s16.c && gcc -O0 -pthread -o s16 s16.c; }
run_stack16k() { X ./s16; }

# ------------------------------------------------------------ the runner
in_only() { [ -z "$ONLY" ] || case $ONLY in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

if [ "$LIST" = 1 ]; then
	for w in "${WORKLOADS[@]}"; do
		IFS='|' read -r name _ _ desc <<<"$w"
		printf '%-16s %s\n' "$name" "$desc"
	done
	exit 0
fi
if [ ! -r "$LIB" ]; then
	echo "matrix.sh: no $LIB (run make all first)" >&2
	exit 1
fi

# install what the selected workloads need (one apt-get for all)
if [ "$INSTALL" = 1 ]; then
	pkgs=()
	for w in "${WORKLOADS[@]}"; do
		IFS='|' read -r name pk cmds _ <<<"$w"
		in_only "$name" || continue
		need=0
		for c in $cmds; do command -v "$c" >/dev/null 2>&1 || [ -x "$PGBIN/$c" ] || need=1; done
		[ "$need" = 1 ] && pkgs+=($pk)
	done
	if [ ${#pkgs[@]} -gt 0 ]; then
		if [ "$(id -u)" != 0 ]; then
			echo "# not root: not installing ${pkgs[*]}" >&2
		else
			echo "# apt-get install ${pkgs[*]}" >&2
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
				--no-install-recommends "${pkgs[@]}" >"$OUT.apt.log" 2>&1 ||
				echo "# apt-get failed (see $OUT.apt.log); workloads without their programs are skipped" >&2
		fi
	fi
fi

mkdir -p "$OUT"
rm -rf "${OUT:?}"/*/
base=${TMPDIR:-/tmp}
case $base in *[:\ \	]*) base=/tmp ;; esac
T=$(mktemp -d "$base/matrix.XXXXXX") || exit 1
chmod 755 "$T"
if [ "$KEEP" = 1 ]; then
	trap 'echo "# kept $T" >&2' EXIT
else
	trap 'rm -rf "$T"' EXIT
fi

CXXPROG=""
if command -v g++ >/dev/null 2>&1 && build_cxx "$T/cxxprog" >"$T/cxx.build" 2>&1; then
	CXXPROG=$T/cxxprog
fi
export CXXPROG

# run_once NAME MODE K: prep and run NAME in $T/NAME.MODE.K; leaves there
# out, err (normalized), status (sorted), time, rep/
run_once() {
	local name=$1 mode=$2 k=$3 d=$T/$1.$2.$3
	mkdir -p "$d/work" "$d/rep" "$d/home"
	chmod 1777 "$d/rep"
	chmod 755 "$d"
	(
		cd "$d/work" || exit 1
		git_env "$d/home"
		RUNNER=()
		STATUS_FILE=""
		"prep_$name" >"$d/prep.log" 2>&1 || { echo "prep_$name failed" >>"$d/prep.log"; exit 3; }
		STATUS_FILE=$d/status.raw
		: >"$STATUS_FILE"
		chmod 666 "$STATUS_FILE"
		RUNNER=(timeout -k 5 "$TMO")
		if [ "$mode" = L ]; then
			RUNNER+=(env "LD_PRELOAD=$LIB"
				"MPWRAP_OPTIONS=json_path=$d/rep/r.%p.json:log_path=$d/rep/r.%p.log")
		fi
		local t0 t1
		t0=$(date +%s.%N)
		"run_$name" >"$d/out.raw" 2>"$d/err.raw"
		echo "$?" >"$d/rc"
		t1=$(date +%s.%N)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >"$d/time"
		local p=""
		[ -f .port ] && p=$(cat .port)
		for f in out err; do
			if [ -n "$p" ]; then
				sed -e "s|$d/work|<W>|g" -e "s|$d|<D>|g" -e "s|\\b$p\\b|<PORT>|g" "$d/$f.raw" >"$d/$f"
			else
				sed -e "s|$d/work|<W>|g" -e "s|$d|<D>|g" "$d/$f.raw" >"$d/$f"
			fi
		done
		{ sort -n "$STATUS_FILE" | tr '\n' ' '; echo "rc=$(cat "$d/rc")"; } >"$d/status"
		exit 0
	)
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }

ROWS=()
nident=0
ntotal=0
nskip=0
SKIPPED=()
load0=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
for w in "${WORKLOADS[@]}"; do
	IFS='|' read -r name pk cmds desc <<<"$w"
	in_only "$name" || continue
	missing=""
	for c in $cmds; do
		command -v "$c" >/dev/null 2>&1 || [ -x "$PGBIN/$c" ] || missing+=" $c"
	done
	[ "$name" = cxx ] && [ -z "$CXXPROG" ] && missing+=" g++ (build failed)"
	if [ -n "$missing" ]; then
		echo "# SKIP $name: not installed:$missing (package: $pk)" >&2
		SKIPPED+=("$name (missing:$missing)")
		nskip=$((nskip + 1))
		continue
	fi
	reps=$REPS
	for ((k = 1; k <= reps; k++)); do
		run_once "$name" P "$k"
		if [ "$k" = 1 ] && awk -v t="$(cat "$T/$name.P.1/time")" 'BEGIN { exit !(t > 8) }'; then
			reps=1
		fi
		run_once "$name" L "$k"
	done
	P=$T/$name.P.1
	L=$T/$name.L.1
	R=$OUT/$name
	mkdir -p "$R"
	notes=()
	same=yes
	if grep -q "prep_$name failed" "$P/prep.log" 2>/dev/null; then
		echo "# SKIP $name: setup failed: $(tail -2 "$P/prep.log" | tr '\n' ' ')" >&2
		SKIPPED+=("$name (setup failed)")
		nskip=$((nskip + 1))
		cp "$P/prep.log" "$R/"
		continue
	fi
	if [ "$(cat "$P/status")" != "$(cat "$L/status")" ]; then
		same=no
		notes+=("statuses plain [$(cat "$P/status")] preloaded [$(cat "$L/status")]")
	fi
	if ! cmp -s "$P/out" "$L/out"; then
		same=no
		diff -u "$P/out" "$L/out" >"$R/stdout.diff"
		notes+=("stdout differs ($(grep -c '^[-+][^-+]' "$R/stdout.diff") lines, stdout.diff)")
	fi
	if ! cmp -s "$P/err" "$L/err"; then
		same=no
		diff -u "$P/err" "$L/err" >"$R/stderr.diff"
		notes+=("stderr differs ($(grep -c '^[-+][^-+]' "$R/stderr.diff") lines, stderr.diff)")
	fi
	if [ "$reps" -ge 2 ]; then
		P2=$T/$name.P.2
		if [ "$(cat "$P/status")" != "$(cat "$P2/status")" ] || ! cmp -s "$P/out" "$P2/out" ||
			! cmp -s "$P/err" "$P2/err"; then
			notes+=("nondeterministic: the two plain runs differ")
		fi
	fi
	tp=$(for ((k = 1; k <= reps; k++)); do cat "$T/$name.P.$k/time"; done | median)
	tl=$(for ((k = 1; k <= reps; k++)); do cat "$T/$name.L.$k/time"; done | median)
	ratio=$(awk -v a="$tp" -v b="$tl" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
	nlog=$(grep -l "ERROR:" "$L"/rep/*.log 2>/dev/null | wc -l)
	nerr=$(grep -h "ERROR:" "$L"/rep/*.log 2>/dev/null | grep -vc "ERROR SUMMARY")
	info=$("$PY" "$RP/leaksum.py" check "$L/rep" 2>/dev/null)
	nrep=$(sed -n 's/^reports=\([0-9]*\).*/\1/p' <<<"$info")
	if [ "${nerr:-0}" -gt 0 ]; then
		first=$(grep -h "ERROR:" "$L"/rep/*.log | grep -v "ERROR SUMMARY" | head -1 | sed 's/^==[0-9]*== //')
		errs="yes: $nerr in $nlog processes ($first)"
	else
		errs=no
	fi
	lib_notes=$(grep -h "mpwrap" "$L"/rep/*.log 2>/dev/null | grep -iv "ERROR\|^==[0-9]*== *$" |
		grep -i "cannot\|could not\|inactive\|fail\|skipp" | head -1 | sed 's/^==[0-9]*== //')
	[ -n "$lib_notes" ] && notes+=("library said: $lib_notes")
	notes+=("${nrep:-0} JSON reports")
	[ "$reps" = 1 ] && [ "$REPS" != 1 ] && notes+=("1 run each (slow)")
	cp "$P/out" "$R/plain.out"; cp "$P/err" "$R/plain.err"; cp "$P/status" "$R/plain.status"
	cp "$L/out" "$R/preload.out"; cp "$L/err" "$R/preload.err"; cp "$L/status" "$R/preload.status"
	printf '%s %s\n' "$tp" "$tl" >"$R/times"
	mkdir -p "$R/rep" && cp "$L"/rep/* "$R/rep/" 2>/dev/null
	ntotal=$((ntotal + 1))
	[ "$same" = yes ] && nident=$((nident + 1))
	note=$(IFS=';'; echo "${notes[*]}" | sed 's/;/; /g')
	ROWS+=("| $name | $same | $ratio (${tp}s / ${tl}s) | $errs | $note |")
	echo "# $name: identical=$same ratio=$ratio errors=$errs; $note" >&2
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(($(date +%s) - started))

{
	echo "| program | identical | time ratio preloaded/plain (median plain s / preloaded s) | errors reported | notes |"
	echo "|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "$nident of $ntotal identical; $nskip skipped${SKIPPED[*]:+: ${SKIPPED[*]}}."
	echo "Load average (1/5/15 min) at the start $load0, at the end $load1; $elapsed s in all; $REPS runs per mode."
} | tee "$OUT/table.md"
[ "$nident" = "$ntotal" ]
