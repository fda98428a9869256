"""mpcheck.flame - folded stacks (flame-graph input) from the heap profile
of mpwrap JSON reports (MPWRAP_OPTIONS=profile=1: the report's "profile").

Brendan Gregg's collapsed format, which flamegraph.pl, inferno and speedscope
read: one line per distinct stack, frames root first (outermost caller
first, the allocating function last) joined by ';', a space, then the value:

    main (prog.c:69);leak_one (prog.c:23) 1000

A frame is "function (file:line)" (the file's base name), "function" when
the line is unknown, "module+0xoffset" when the function is, else its pc.
';' in a name becomes ':', so that it cannot split a frame.  Sites whose
frames read alike (same functions and lines) are added together; lines
with value 0 are left out; lines come sorted by stack text.

Measures (MEASURES): peak (bytes live at the process's peak), leaked (bytes
left at exit that are lost: definite + indirect + possible), allocated
(bytes allocated in all), temporary (bytes of temporary allocations), live
(bytes live when the report was written), allocations, temporaries (counts).

API (stdlib only, no state):
    frame_name(frame) -> str
    site_value(site, measure) -> int
    folded_lines(report, measure="peak", root=None) -> list of str
        report: one parsed process report (dict); root: a frame put above
        every stack (e.g. the process's command), or None.
    folded_from_reports(reports, measure="peak", per_process=False) -> list
        several reports added together (per_process: a root frame
        "command [pid]" keeps each process apart).
Raises ValueError for an unknown measure or a report without "profile".

mpcheck's --flamegraph FILE (--flamegraph-of MEASURE) adds every process's
lines together as the reports arrive; the command line (scripts/
mpwrap_folded.py, a launcher of this module's main) does it for report
files kept with json_path:
    mpwrap_folded.py [--of MEASURE] [--per-process] [-o FILE] REPORT.json...
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, Iterable, List, Mapping, Optional

MEASURES = ("peak", "leaked", "allocated", "temporary", "live",
            "allocations", "temporaries")
LOST = ("definite", "indirect", "possible")


def _clean(s: str) -> str:
    return s.replace(";", ":").replace("\n", " ").replace("\r", " ")


def frame_name(f: Mapping[str, Any]) -> str:
    fn = f.get("function")
    if fn:
        if f.get("file") and f.get("line"):
            return _clean("%s (%s:%d)" % (fn, os.path.basename(f["file"]),
                                          f["line"]))
        return _clean(fn)
    if f.get("module"):
        return _clean("%s+%s" % (os.path.basename(f["module"]),
                                 f.get("offset") or "0x0"))
    return _clean(f.get("pc") or "??")


def site_value(site: Mapping[str, Any], measure: str) -> int:
    if measure == "peak":
        return site.get("peak_bytes", 0)
    if measure == "allocated":
        return site.get("bytes", 0)
    if measure == "live":
        return site.get("live_bytes", 0)
    if measure == "allocations":
        return site.get("allocations", 0)
    if measure == "temporary":
        return site.get("temporary", {}).get("bytes", 0)
    if measure == "temporaries":
        return site.get("temporary", {}).get("allocations", 0)
    if measure == "leaked":
        left = site.get("left", {})
        return sum(left.get(k, {}).get("bytes", 0) for k in LOST)
    raise ValueError("unknown measure %r (one of: %s)"
                     % (measure, ", ".join(MEASURES)))


def _add(acc: Dict[str, int], report: Mapping[str, Any], measure: str,
         root: Optional[str]) -> None:
    prof = report.get("profile")
    if not isinstance(prof, dict):
        raise ValueError("report of pid %s has no \"profile\" (run with "
                         "MPWRAP_OPTIONS=profile=1)" % report.get("pid"))
    for site in prof.get("sites", []):
        v = site_value(site, measure)
        if not v:
            continue
        frames = [frame_name(f) for f in reversed(site.get("stack") or [])]
        if not frames:
            frames = ["[no stack]"]
        if root:
            frames.insert(0, _clean(root))
        key = ";".join(frames)
        acc[key] = acc.get(key, 0) + v


def _lines(acc: Dict[str, int]) -> List[str]:
    return ["%s %d" % (k, acc[k]) for k in sorted(acc)]


def folded_lines(report: Mapping[str, Any], measure: str = "peak",
                 root: Optional[str] = None) -> List[str]:
    site_value({}, measure)  # an unknown measure fails even with no sites
    acc: Dict[str, int] = {}
    _add(acc, report, measure, root)
    return _lines(acc)


def _process_root(report: Mapping[str, Any]) -> str:
    cmd = (report.get("command") or "?").split(" ")[0]
    return "%s [%s]" % (os.path.basename(cmd), report.get("pid"))


def folded_from_reports(reports: Iterable[Mapping[str, Any]],
                        measure: str = "peak",
                        per_process: bool = False) -> List[str]:
    site_value({}, measure)
    acc: Dict[str, int] = {}
    for r in reports:
        _add(acc, r, measure, _process_root(r) if per_process else None)
    return _lines(acc)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description="folded stacks from mpwrap JSON reports (profile=1)")
    ap.add_argument("reports", nargs="+", metavar="REPORT.json")
    ap.add_argument("--of", default="peak", choices=MEASURES,
                    help="the measure (default: peak)")
    ap.add_argument("--per-process", action="store_true",
                    help="a root frame per process: command [pid]")
    ap.add_argument("-o", "--output", help="write here (default: stdout)")
    a = ap.parse_args(argv)
    reports = []
    for path in a.reports:
        try:
            with open(path, encoding="utf-8") as f:
                reports.append(json.load(f))
        except (OSError, ValueError) as e:
            print("mpwrap_folded: %s: %s" % (path, e), file=sys.stderr)
            return 2
    try:
        lines = folded_from_reports(reports, a.of, a.per_process)
    except ValueError as e:
        print("mpwrap_folded: %s" % e, file=sys.stderr)
        return 2
    text = "".join(l + "\n" for l in lines)
    if a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0
