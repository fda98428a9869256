"""pywork.py - a python3 dict/string workload for the mpwrap benchmarks.

    python3 pywork.py [SCALE]

Builds dicts keyed by formatted strings, joins, splits, slices and
re-hashes them, with a live set that grows and shrinks, so both pymalloc
(small objects) and malloc (large strings, dict tables, lists) are used.
SCALE (default 1.0) multiplies the amount of work; about 1-2 s natively.
"""
import sys
import time


def run(scale):
    n = int(200000 * scale)
    t0 = time.monotonic()
    total = 0
    for rnd in range(3):
        d = {}
        for i in range(n):
            k = "key-%d-%x" % (i, (i * 2654435761) & 0xFFFFFFFF)
            d[k] = k.upper() + ("/" * (i % 64))
        # string churn: join, split, replace, slices
        words = []
        for k, v in d.items():
            if len(v) & 7 == rnd:
                words.append(v[::-1] + k)
        blob = " ".join(words)
        parts = blob.split(" ")
        total += len(parts) + len(blob.replace("KEY", "k"))
        # a second dict keyed by ints, values are lists of short strings
        g = {}
        for i, k in enumerate(d):
            g.setdefault(i % 1000, []).append(k[4:12])
        total += sum(len(v) for v in g.values())
        # shrink: delete two thirds, then rebuild some large strings
        for i, k in enumerate(list(d)):
            if i % 3:
                del d[k]
        big = ["".join(d.keys())[j:j + 4096] for j in range(0, 4096 * 200, 4096)]
        total += sum(map(len, big)) + len(d)
        del d, g, words, blob, parts, big
    print("BENCH_WORK_S=%.6f BENCH_OPS=%d" % (time.monotonic() - t0, total))


if __name__ == "__main__":
    run(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
