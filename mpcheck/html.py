"""mpcheck.html - the --html report: one self-contained HTML file (style,
script and data inlined; no network) that shows the verdict, the findings
with their stacks and source, the processes, each one's leak groups with
kept_by, a flame graph of its heap profile, its sites and its heap over time.

The page is mpcheck/html_assets/report.html with report.css and report.js
put in; the data (htmldata.HtmlData's processes, frames and source, and the
run's findings and summary) goes in as one JSON blob in a
<script type="application/json">, written as a stream: the process entries
are copied from the spool, never loaded together.

mpcheck --html FILE writes it for a run; main() (scripts/mpwrap_html.py) for
report files kept with json_path, e.g. a test's or a long run's:
    mpwrap_html.py [-o FILE] REPORT.json...
with the default suppressions and gate (definite and indirect leaks)."""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import tempfile
import time
from typing import IO, Any, Dict, List, Optional

from .common import VERSION, InputError
from .htmldata import HtmlData
from .cli import Options
from .suppress import load_suppressions
from .findings import Aggregate

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "html_assets")
ASSET_FILES = ("report.html", "report.css", "report.js")


def check_assets() -> None:
    """--html needs the page's files beside the package: one clear line
    before the run when an install left them out."""
    for name in ASSET_FILES:
        path = os.path.join(ASSETS, name)
        if not os.path.isfile(path):
            raise InputError(f"--html: the page's file '{path}' is missing "
                             "(install mpcheck with its html_assets)")


def _asset(name: str) -> str:
    with open(os.path.join(ASSETS, name), encoding="utf-8") as f:
        return f.read()


def _script_safe(text: str) -> str:
    """JSON text that cannot end its <script> element: every '<' (only
    inside strings in JSON) written as \\u003c."""
    return text.replace("<", "\\u003c")


def _compact(value: Any) -> str:
    return _script_safe(json.dumps(value, separators=(",", ":")))


def finding_entry(finding: Dict[str, Any], data: HtmlData) -> Dict[str, Any]:
    """A listed finding for the page: its stacks as frame ids."""
    out = {k: v for k, v in finding.items()
           if k not in ("last_pid", "locate_pid", "locate_site", "late",
                        "stack", "alloc_stack", "free_stack", "located")}
    for key in ("stack", "alloc_stack", "free_stack"):
        if key in finding:
            out[key] = data.stack(json.loads(finding[key]), None, True)
    return out


def write_html(f: IO[str], findings: List[Dict[str, Any]], data: HtmlData,
               spool_path: str, summary: Dict[str, Any],
               command: List[str]) -> None:
    page = _asset("report.html")
    head, _, tail = page.partition("@DATA@")
    cmd = " ".join(command)
    subst = {"@VERSION@": html.escape(VERSION),
             "@TITLE@": html.escape("mpwrap: " + cmd[:200]),
             "@DATE@": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
             "@STYLE@": _asset("report.css")}
    for key, value in subst.items():
        head = head.replace(key, value)
    # the script last, so nothing in it is taken for a placeholder; a
    # "</script" inside it would end the element early
    script = _asset("report.js")
    assert "</script" not in script.lower()
    tail = tail.replace("@VERSION@", html.escape(VERSION)).replace(
        "@DATE@", subst["@DATE@"]).replace("@SCRIPT@", script)
    listed = [finding_entry(fi, data) for fi in findings]
    f.write(head)
    f.write('{"version":1,"command":' + _compact(cmd) +
            ',"summary":' + _compact(summary) +
            ',"findings":' + _compact(listed) + ',"processes":[')
    data.spool.flush()
    with open(spool_path, encoding="utf-8") as spool:
        for i, line in enumerate(spool):
            f.write(("," if i else "") + _script_safe(line.rstrip("\n")))
    f.write('],"frames":' + _compact(data.frames) +
            ',"source":' + _compact(data.source) + '}')
    f.write(tail)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        description="one self-contained HTML report from mpwrap JSON reports")
    ap.add_argument("reports", nargs="+", metavar="REPORT.json")
    ap.add_argument("-o", "--output", required=True, help="the HTML file")
    a = ap.parse_args(argv)
    opts = Options()
    opts.html = a.output
    opts.command = ["mpwrap_html.py"] + a.reports
    with tempfile.TemporaryDirectory(prefix="mpwrap_html.") as tmp:
        spool_path = os.path.join(tmp, "html.jsonl")
        with open(spool_path, "w", encoding="utf-8") as spool:
            aggregate = Aggregate(opts, load_suppressions(opts), [], None)
            aggregate.html = HtmlData(spool)
            for path in a.reports:
                try:
                    with open(path, encoding="utf-8") as f:
                        data = json.load(f)
                    if not isinstance(data, dict):
                        raise ValueError("not a JSON object")
                except (OSError, ValueError) as e:
                    print("mpwrap_html: %s: %s" % (path, e), file=sys.stderr)
                    return 2
                pid = data.get("pid")
                aggregate.fold(pid if isinstance(pid, int) else 0, data)
            summary = aggregate.summary(0)
            with open(a.output, "w", encoding="utf-8") as out:
                write_html(out, aggregate.listed(), aggregate.html,
                           spool_path, summary, opts.command)
    return 0
