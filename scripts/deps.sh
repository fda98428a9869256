#!/bin/sh
# deps.sh - make sure the Debian packages the build needs are installed.
# As root, missing ones are installed with apt-get; otherwise one line names
# the command to run.  Usage: deps.sh pkg[:header] ...
missing=""
for spec in "$@"; do
	pkg=${spec%%:*}
	hdr=${spec#*:}
	if [ "$hdr" != "$spec" ] && [ -e "$hdr" ]; then continue; fi
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" && continue
	missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >/tmp/mpwrap-deps.log 2>&1 && exit 0
	echo "deps: apt-get install$missing failed; see /tmp/mpwrap-deps.log" >&2
	exit 1
fi
echo "deps: missing Debian packages; run: sudo apt-get install$missing" >&2
exit 1
