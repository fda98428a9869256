"""mpcheck.htmldata - what --html shows of each process, gathered as the
reports arrive: one compact entry per process (its errors and leak groups
with kept_by, its heap profile's sites and series) spooled to a file, the
frames of every stack interned once in a table, and a few lines of source
around each frame of an error or leak group whose file is readable.

Why compact: the page embeds everything as one JSON blob, and a process
with 100,000 sites of 20 frames each written out as report frames would be
hundreds of megabytes; with frames interned a site is a list of integers
(a 100,000-site profile is about 10 MB of HTML).

Shapes (the page's script, mpcheck/html_assets/report.js, reads them):
    frame    [function, file, line, module, offset]   (null where unknown)
    stack    [frame id, ...], innermost first, as in the report
    site     [stack, allocations, bytes, peak, live, temporary allocations,
              temporary bytes, leaked bytes (definite+indirect+possible)]
    process  {"pid", "command", "test", "cwd", "peak", "allocations",
              "errors": [{kind, function, description, stack, alloc_stack,
                          free_stack}],
              "leaks": [{kind, bytes, blocks, stack, kept_by}],
              "leaks_not_listed", "errors_not_listed",
              "sites": [site...] or null (no profile=1), "series": points}
    source   {frame id: [first line number, [line text, ...]]}

Bounds: errors and leak groups per process (MAX_GROUPS, largest leaks
first; the rest counted), sites per process (MAX_SITES, largest peak
first; SITES_PAST_BUDGET once the page holds SITES_BUDGET), source snippets
(MAX_SNIPPETS, files up to MAX_SOURCE_BYTES)."""

from __future__ import annotations

import json
import os
from typing import IO, Any, Dict, List, Mapping, Optional, Tuple

from .flame import LOST

MAX_GROUPS = 1000
MAX_SITES = 200000
# a suite of many profiled processes (each python3 has ~1,000 sites): past
# SITES_BUDGET sites in the page, a process keeps its SITES_PAST_BUDGET
# largest (by peak): the page stays near 20 MB (8.4 MB per 100,000 sites)
SITES_BUDGET = 200000
SITES_PAST_BUDGET = 100
MAX_SNIPPETS = 5000
MAX_SOURCE_BYTES = 4 << 20
CACHED_FILES = 64
CONTEXT = 3             # source lines shown each side of a frame's line
MAX_LINE = 240          # characters kept of one source line


def _int(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _str(v: Any) -> Optional[str]:
    return v if isinstance(v, str) else None


def _dict(v: Any) -> Dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> List[Any]:
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


class HtmlData:
    """The page's data as reports arrive: processes to `spool` (one JSON
    line each), frames and source snippets in memory (bounded by the
    distinct frames of the run)."""

    def __init__(self, spool: IO[str]):
        self.spool = spool
        self.frames: List[list] = []
        self.frame_ids: Dict[Tuple[Any, ...], int] = {}
        self.source: Dict[int, list] = {}
        self.source_tried: set = set()
        self.files: Dict[str, Optional[List[str]]] = {}
        self.processes = 0
        self.sites = 0                  # sites in the page so far

    # -- frames and source
    def frame(self, f: Mapping[str, Any]) -> int:
        key = (_str(f.get("function")), _str(f.get("file")),
               _int(f.get("line")) or None, _str(f.get("module")),
               _str(f.get("offset")) or _str(f.get("pc")))
        fid = self.frame_ids.get(key)
        if fid is None:
            fid = self.frame_ids[key] = len(self.frames)
            self.frames.append(list(key))
        return fid

    def stack(self, frames: Any, cwd: Optional[str] = None,
              source: bool = False) -> List[int]:
        ids = [self.frame(f) for f in _list(frames)]
        if source:
            for fid in ids:
                self.snippet(fid, cwd)
        return ids

    def _file_lines(self, path: str) -> Optional[List[str]]:
        if path in self.files:
            return self.files[path]
        lines = None
        try:
            if os.path.isfile(path) and \
                    os.path.getsize(path) <= MAX_SOURCE_BYTES:
                with open(path, encoding="utf-8", errors="replace") as f:
                    lines = f.read().split("\n")
        except OSError:
            pass
        # files unreadable: all remembered; read ones: the first
        # CACHED_FILES (each up to MAX_SOURCE_BYTES), the others read again
        if lines is None or len(self.files) < CACHED_FILES:
            self.files[path] = lines
        return lines

    def snippet(self, fid: int, cwd: Optional[str]) -> None:
        """A few lines of source around the frame's line, when its file
        can be read (relative names: from the process's cwd, then ours)."""
        if fid in self.source_tried or len(self.source) >= MAX_SNIPPETS:
            return
        self.source_tried.add(fid)
        _, path, line = self.frames[fid][:3]
        if not path or not line:
            return
        candidates = [path]
        if cwd and not os.path.isabs(path):
            candidates.insert(0, os.path.join(cwd, path))
        for cand in candidates:
            lines = self._file_lines(cand)
            if lines is not None and line <= len(lines):
                first = max(1, line - CONTEXT)
                self.source[fid] = [first, [s[:MAX_LINE] for s in
                                            lines[first - 1:line + CONTEXT]]]
                return

    # -- one process
    def add(self, pid: int, data: Mapping[str, Any]) -> None:
        cwd = _str(data.get("cwd"))
        errors = _list(data.get("errors"))
        leaks = sorted(_list(data.get("leaks")),
                       key=lambda g: -_int(g.get("bytes")))
        stats = _dict(data.get("stats"))
        test = data.get("test")
        entry: Dict[str, Any] = {
            "pid": pid, "command": _str(data.get("command")) or "?",
            "test": _str(test.get("name")) if isinstance(test, dict) else None,
            "cwd": cwd, "peak": _int(stats.get("peak_bytes")),
            "allocations": _int(stats.get("allocations")),
            "errors_not_listed": max(0, len(errors) - MAX_GROUPS),
            "leaks_not_listed": max(0, len(leaks) - MAX_GROUPS)}
        entry["errors"] = [{
            "kind": _str(e.get("kind")) or "unknown",
            "function": _str(e.get("function")),
            "description": _str(e.get("description")),
            "stack": self.stack(e.get("stack"), cwd, True),
            "alloc_stack": self.stack(e.get("alloc_stack"), cwd, True),
            "free_stack": self.stack(e.get("free_stack"), cwd, True)}
            for e in errors[:MAX_GROUPS]]
        entry["leaks"] = [{
            "kind": _str(g.get("kind")) or "?", "bytes": _int(g.get("bytes")),
            "blocks": _int(g.get("blocks")),
            "stack": self.stack(g.get("stack"), cwd, True),
            "kept_by": g.get("kept_by") if isinstance(g.get("kept_by"), dict)
            else None} for g in leaks[:MAX_GROUPS]]
        summary = _dict(data.get("summary"))
        entry["leak_totals"] = {
            k: _int(v.get("bytes")) for k, v in
            _dict(summary.get("leaks")).items() if isinstance(v, dict)}
        entry["error_count"] = _int(summary.get("errors")) or len(errors)
        prof = data.get("profile")
        entry["sites"] = entry["series"] = None
        if isinstance(prof, dict):
            sites = _list(prof.get("sites"))
            keep = MAX_SITES if self.sites < SITES_BUDGET \
                else SITES_PAST_BUDGET
            if len(sites) > keep:
                sites.sort(key=lambda s: -_int(s.get("peak_bytes")))
                entry["sites_not_listed"] = len(sites) - keep
                sites = sites[:keep]
            entry["sites"] = [self.site(s) for s in sites]
            self.sites += len(sites)
            series = prof.get("series")
            if isinstance(series, dict) and isinstance(series.get("points"),
                                                       list):
                entry["series"] = [p for p in series["points"]
                                   if isinstance(p, list) and len(p) == 3]
            totals = prof.get("totals")
            if isinstance(totals, dict):
                entry["totals"] = {k: v for k, v in totals.items()
                                   if isinstance(v, int)}
        self.spool.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self.processes += 1

    def site(self, s: Mapping[str, Any]) -> list:
        temp = _dict(s.get("temporary"))
        left = _dict(s.get("left"))
        leaked = sum(_int(_dict(left.get(k)).get("bytes")) for k in LOST)
        return [self.stack(s.get("stack")), _int(s.get("allocations")),
                _int(s.get("bytes")), _int(s.get("peak_bytes")),
                _int(s.get("live_bytes")), _int(temp.get("allocations")),
                _int(temp.get("bytes")), leaked]
