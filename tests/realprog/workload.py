"""workload.py - dict/string-heavy python3 workload for t_realprog.sh.

Three threads each build and rewrite dicts of strings; the main thread
merges their results.  Output is deterministic (independent of the hash
seed and of thread scheduling).  Usage: python3 workload.py [ROUNDS]
"""
import hashlib
import sys
import threading

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 16
N = 20000
results = {}
lock = threading.Lock()


def work(tid):
    d = {}
    for r in range(ROUNDS):
        for i in range(N):
            k = "t%d-k%05d" % (tid, (i * 7919 + r) % N)
            v = d.get(k, "") + chr(97 + (i + r) % 26)
            d[k] = v[-40:] if len(v) > 40 else v
        # string churn: split/join/format/replace
        words = " ".join(d[k] for k in sorted(d)[-(N // 4):]).split(" ")
        d["j%d" % r] = "-".join(w.upper().replace("A", "@") for w in words)
        for k in [k for k in d if k.endswith("7") and len(d[k]) % 3 == 0]:
            del d[k]
    h = hashlib.sha256()
    for k in sorted(d):
        h.update(k.encode())
        h.update(d[k].encode())
    with lock:
        results[tid] = (len(d), h.hexdigest()[:16])


threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for tid in sorted(results):
    print("thread", tid, *results[tid])
