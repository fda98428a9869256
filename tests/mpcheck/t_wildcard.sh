#!/usr/bin/env bash
# t_wildcard.sh - mpcheck's suppression templates (LeakSanitizer syntax:
# substring, '*' any run, '^' and '$' anchors) match as a regular
# expression would, in linear time: '*a*a*a*a*b' against a 400-character
# name once backtracked for minutes.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
python3 - "$here" <<'PY'
import itertools, random, re, sys, time
sys.path.insert(0, sys.argv[1])
from mpcheck import suppress as mp

def reference(pattern, s):
    anchored = pattern.startswith("^")
    body = pattern[1:] if anchored else pattern
    body, dollar, _ = body.partition("$")
    rx = ".*".join(re.escape(p) for p in body.split("*"))
    return re.search(("\\A" if anchored else "") + rx + ("\\Z" if dollar else ""), s, re.S) is not None

n = 0
bad = []
rng = random.Random(7)
alpha = "ab*"
for _ in range(20000):
    body = "".join(rng.choice(alpha) for _ in range(rng.randint(1, 6)))
    pattern = rng.choice(["", "^"]) + body + rng.choice(["", "$"])
    s = "".join(rng.choice("ab") for _ in range(rng.randint(0, 9)))
    m = mp.compile_pattern(pattern)
    got = True if m is None else m.search(s)
    if got != reference(pattern, s):
        bad.append((pattern, s, got))
n += 1
print(("ok" if not bad else "not ok") + " %d - 20000 random templates agree with the regular expression%s"
      % (n, "" if not bad else ": %s" % bad[:5]))
t = time.time()
m = mp.compile_pattern("*a*a*a*a*b")
r = m.search("a" * 400)
dt = time.time() - t
n += 1
print(("ok" if not r and dt < 0.5 else "not ok") + " %d - '*a*a*a*a*b' against 400 a's: no match in %.3f s" % (n, dt))
print("1..%d" % n)
PY
