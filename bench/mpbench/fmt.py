"""mpbench.fmt - numbers as the tables print them, the median, and a
shell command's output."""

import statistics
import subprocess


def fmt_n(n):
    for div, suf in ((1000000, "M"), (1000, "k")):
        if n >= div and n % (div // 10) == 0:
            v = n / div
            return ("%g" % v) + suf
    return str(n)


def fmt_s(s):
    if s is None:
        return "-"
    return "%.3f s" % s if s < 10 else "%.1f s" % s


def fmt_mib(kb):
    return "%.1f MiB" % (kb / 1024.0) if kb < 10240 else "%.0f MiB" % (kb / 1024.0)


def fmt_ratio(x):
    return "%.2f×" % x if x < 10 else "%.1f×" % x if x < 100 else "%.0f×" % x


def med(xs):
    return statistics.median(xs) if xs else None


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=30).stdout.strip()
    except Exception:
        return ""
