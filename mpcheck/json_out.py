"""mpcheck.json_out - the --json report: the summary, the findings in
the order they are printed, and the process list read back from the
spool."""

from __future__ import annotations

import json
from typing import Any, Dict, IO

from .common import VERSION, Finding, compact
from .findings import Aggregate


def output_finding(finding: Finding) -> Dict[str, Any]:
    """A listed finding as --json shows it: stacks decoded, bookkeeping out."""
    out = {k: v for k, v in finding.items()
           if k not in ("last_pid", "locate_pid", "locate_site", "late")}
    for key in ("stack", "alloc_stack", "free_stack"):
        if key in out:
            out[key] = json.loads(out[key])
    if "stack" in out.get("located", {}):
        out["located"] = dict(out["located"],
                              stack=json.loads(out["located"]["stack"]))
    if finding["type"] == "error":
        del out["bytes"], out["blocks"]
    return out


def write_json(f: IO[str], aggregate: Aggregate, spool_path: str,
               summary: Dict[str, Any]) -> None:
    """The aggregated report, streamed: the spooled process entries are
    copied, never loaded."""
    f.write('{"version": 1, "tool": "mpwrap", "mpcheck_version": '
            f'{json.dumps(VERSION)},\n"processes": [\n')
    with open(spool_path, encoding="utf-8") as spool:
        for i, line in enumerate(spool):
            f.write((",\n" if i else "") + line.rstrip("\n"))
    f.write('\n],\n"findings": [\n')
    for i, finding in enumerate(aggregate.listed()):
        f.write((",\n" if i else "") + compact(output_finding(finding)))
    f.write(f'\n],\n"summary": {json.dumps(summary, indent=2)}\n}}\n')
