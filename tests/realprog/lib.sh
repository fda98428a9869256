# lib.sh - the real-program commands shared by t_realprog.sh (part 1, the
# native/preloaded matrix) and memcheck_compare.sh (part 2, memcheck vs us).
# Sourced by bash; needs RP (this directory) and PY (a real python3 binary).
#
# A command is split in two:
#   prep_NAME         set up inputs in the current directory, never run
#                     under the checker (plain programs, no X)
#   run_NAME          the command under test: every process to check is
#                     started with X, whose runner is chosen by the caller
#   post_NAME         optional: checks of the result, not under the checker;
#                     its output is part of the compared stdout
# X runs "${RUNNER[@]}" "$@" (RUNNER=() for a native run) and appends the
# exit status to $STATUS_FILE, so the list of statuses can be compared.
# Single-process variants for memcheck are mc_prep_NAME / mc_run_NAME
# (default: prep_NAME / run_NAME).

RUNNER=()
X() {
	"${RUNNER[@]}" "$@"
	local rc=$?
	[ -n "${STATUS_FILE:-}" ] && echo "$rc" >>"$STATUS_FILE"
	return "$rc"
}

# sizes (environment overrides are for experiments only)
PY_ROUNDS=${REALPROG_PY_ROUNDS:-16}     # ~0.8 s natively
SORT_LINES=${REALPROG_SORT_LINES:-175000} # ~5 MB
DGST_MB=${REALPROG_DGST_MB:-4}
TAR_FILES=${REALPROG_TAR_FILES:-300}
SQL_ROWS=${REALPROG_SQL_ROWS:-5000}
CXX_N=${REALPROG_CXX_N:-20000}

# deterministic pseudo-random text lines: gen_lines N SEED
gen_lines() {
	awk -v n="$1" -v s="$2" 'BEGIN {
		x = s
		for (i = 0; i < n; i++) {
			x = (x * 1103515245 + 12345) % 2147483648
			y = (x * 69069 + 1) % 2147483648
			printf "%010d %s line-%d %08x\n", x % 1000000007, \
				substr("alphabetagammadeltaepsilonzetaetatheta", x % 20 + 1, 8), \
				i, y
		}
	}'
}

# ---------------------------------------------------------------- bash -c
BASH_LOOP='declare -A m; a=(); s=""
for ((i = 0; i < 4000; i++)); do
	s+="$i,"; a+=("item$i-${s: -6}"); m["k$((i % 997))"]+="${a[i]:0:5}"
	(( i % 500 == 0 )) && unset "a[$((i / 2))]"
done
t=${s//,/;}; u=${t^^}; printf -v j "%s|" "${a[@]:100:50}"
echo "len=${#s} n=${#a[@]} keys=${#m[@]} t=${#t} j=${#j} m7=${#m[k7]}"
for k in k1 k500 k996; do echo "$k ${m[$k]:0:40}"; done'
prep_bash() { :; }
run_bash() { X bash -c "$BASH_LOOP"; }

# ---------------------------------------------------------------- python3
prep_python() { :; }
run_python() { X "$PY" "$RP/workload.py" "$PY_ROUNDS"; }

# ---------------------------------------------------------------- perl
prep_perl() { :; }
run_perl() { X perl "$RP/workload.pl"; }

# ---------------------------------------------------------------- git
# HOME, GIT_CONFIG_NOSYSTEM and fixed dates come from the caller's env
# (git_env); the dates make the commit ids identical across runs.
git_env() {
	export HOME=$1 GIT_CONFIG_NOSYSTEM=1 GIT_PAGER=cat PAGER=cat
	export GIT_AUTHOR_DATE='2024-01-02T03:04:05Z'
	export GIT_COMMITTER_DATE='2024-01-02T03:04:05Z'
	unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE XDG_CONFIG_HOME
}
prep_git() {
	mkdir -p src docs
	for i in $(seq 1 40); do
		gen_lines 20 "$i" >"src/file$i.txt"
	done
	printf 'readme\n' >docs/README
}
git_setup() { # git init/config/add/commit in ./repo, each through X
	X git init -q -b main repo &&
	X git -C repo config user.name 'Real Prog' &&
	X git -C repo config user.email 'realprog@example.invalid' &&
	cp -r src docs repo/ &&
	X git -C repo add . &&
	X git -C repo commit -q -m 'first commit' &&
	printf 'more\n' >>repo/docs/README &&
	X git -C repo commit -q -a -m 'second commit'
}
run_git() {
	git_setup && X git -C repo --no-pager log --stat --format='%H %an %s'
}
mc_prep_git() { prep_git && git_setup; }  # X is native in a prep
mc_run_git() { X git -C repo --no-pager log --stat --format='%H %an %s'; }

# ---------------------------------------------------------------- sqlite3
prep_sqlite() {
	{
		echo "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v INTEGER);"
		echo "BEGIN;"
		awk -v n="$SQL_ROWS" 'BEGIN { for (i = 1; i <= n; i++)
			printf "INSERT INTO t (name, v) VALUES (%cname-%d%c, %d);\n", 39, i, 39, (i * 7919) % 1009 }'
		echo "COMMIT;"
		echo "SELECT count(*), sum(v), max(length(name)) FROM t;"
		echo "SELECT name FROM t WHERE v > 1000 ORDER BY id LIMIT 3;"
	} >script.sql
}
run_sqlite() { X sqlite3 db.sqlite <script.sql; }

# ---------------------------------------------------------------- gcc
prep_gcc() { cp "$RP/hello.c" .; }
run_gcc() { X gcc -O2 -Wall -o hello hello.c; }
post_gcc() { ./hello; }

# ---------------------------------------------------------------- make
prep_make() {
	cp "$RP/two.mk" Makefile
	gen_lines 3000 7 | awk '{ print $2 }' >words.txt
}
run_make() { X make --no-print-directory -j1 all; }
post_make() { cat counts.txt; wc -l <upper.txt; }

# ---------------------------------------------------------------- sort
# Short lines and a buffer holding them all: sort only starts its second
# thread for more than 128K lines in one buffer.
prep_sort() { gen_lines "$SORT_LINES" 42 | cut -d' ' -f1,2,4 >big.txt; }
run_sort() { X sort --parallel=2 -S 64M -o sorted.txt big.txt; }
post_sort() {
	wc -c <big.txt
	sha256sum <sorted.txt
	# the checksum of sorted input is the one of a plain (unpreloaded) sort
	[ "$(sha256sum <sorted.txt)" = "$(sort big.txt | sha256sum)" ] &&
		echo "matches plain sort"
}

# ---------------------------------------------------------------- tar
prep_tar() {
	mkdir -p tree/a tree/b/c
	local i
	for ((i = 0; i < TAR_FILES; i++)); do
		case $((i % 3)) in
		0) gen_lines $((i % 50 + 1)) "$i" >"tree/a/f$i.txt" ;;
		1) gen_lines $((i % 30 + 1)) "$i" >"tree/b/f$i.txt" ;;
		2) gen_lines $((i % 20 + 1)) "$i" >"tree/b/c/f$i.txt" ;;
		esac
	done
}
run_tar() {
	X tar czf tree.tgz tree && mkdir out && X tar xzf tree.tgz -C out
}
post_tar() {
	diff -r tree out/tree && echo "trees identical"
	find out -type f | wc -l
}

# ---------------------------------------------------------------- openssl
prep_openssl() {
	# DGST_MB MiB of deterministic bytes
	gen_lines 1000 3 >chunk
	local i
	: >data.bin
	while [ "$(stat -c %s data.bin)" -lt $((DGST_MB << 20)) ]; do
		cat chunk >>data.bin
	done
	truncate -s $((DGST_MB << 20)) data.bin
}
run_openssl() { X openssl dgst -sha256 data.bin; }

# ---------------------------------------------------------------- C++
# The binary is built once by the caller (g++ -g -O2) into $CXXPROG.
prep_cxx() { :; }
run_cxx() { X "$CXXPROG" "$CXX_N"; }

# kill_tree PID: SIGTERM to PID and all its descendants, each by its pid
# (timeout(1) runs its command in a process group of its own, which a signal
# to the test's group does not reach).
kill_tree() {
	local pids=("$1") i=0 c
	while [ "$i" -lt "${#pids[@]}" ]; do
		for c in $(ps -o pid= --ppid "${pids[i]}" 2>/dev/null); do
			pids+=("$c")
		done
		i=$((i + 1))
	done
	kill -TERM "${pids[@]}" 2>/dev/null
}

# build_cxx OUT: g++ -g -O2 the C++ program; 0 on success
build_cxx() { g++ -g -O2 -o "$1" "$RP/cxxprog.cpp"; }

# python3 to use: /usr/bin/python3 if present, else the real binary behind
# `python3` (pyenv shims are bash scripts; resolve them through Python).
find_python() {
	if [ -x /usr/bin/python3 ]; then
		echo /usr/bin/python3
	else
		python3 -c 'import sys; print(sys.executable)'
	fi
}
