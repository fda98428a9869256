"""mpcheck.text - what mpcheck writes to the terminal: the relay of the
library's own log lines, the progress line, the summary with its findings
and stacks, the program's verdict and --gen-suppressions output."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import threading
import time
from typing import Any, Dict, IO, List, Optional

from .common import Finding, Stack, short, signal_name
from .frames import describe_frame, is_runtime, text
from .cli import Options
from .findings import Aggregate, test_lines


# Frames per stack in the summary, and the bytes of one process's text
# report relayed to stderr (main.RELAY_LOGS says how many processes).
STACK_LINES = 12
RELAY_BYTES = 64 << 10
# Seconds between two redraws of the progress line on a terminal.
PROGRESS_SECONDS = 0.25
LOG_NAME = "mpwrap.{}.log"


class LogRelay:
    """The library's text reports (log_path = mpwrap.%p.log in the reports
    directory): the first `limit` processes with gating findings keep theirs
    for stderr, every other one is deleted as its JSON report is taken, so
    the directory never grows with the suite.  The library writes its text
    report before it renames the JSON report into place, so it is complete
    by then."""

    def __init__(self, limit):
        self.limit = limit
        self.kept = []                  # pids, in the order they reported
        self.more = 0                   # gating processes past the limit
        self.texts = []                 # (pid, text, truncated) once read

    def after_report(self, dir_fd, pid, gating):
        if gating and len(self.kept) < self.limit:
            self.kept.append(pid)
            return
        self.more += gating
        with contextlib.suppress(OSError):
            os.unlink(LOG_NAME.format(pid), dir_fd=dir_fd)

    def collect(self, dir_fd):
        """Read the kept logs (bounded, never following a link: every
        process of the run can write to the directory)."""
        for pid in self.kept:
            try:
                fd = os.open(LOG_NAME.format(pid), os.O_RDONLY | os.O_NOFOLLOW
                             | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
            except OSError:
                continue                # a process that wrote no text
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue
                data = os.read(fd, RELAY_BYTES + 1)
            finally:
                os.close(fd)
            if data:
                self.texts.append((pid, data[:RELAY_BYTES].decode(
                    "utf-8", "replace"), len(data) > RELAY_BYTES))

    def print(self, err):
        for pid, text_, truncated in self.texts:
            err.write(text_ if text_.endswith("\n") else text_ + "\n")
            if truncated:
                print(f"mpcheck: ... the report of pid {pid} goes on past "
                      f"{RELAY_BYTES} bytes (--log-file keeps it whole)",
                      file=err)
        if self.more:
            print(f"mpcheck: ... and {self.more} more processes with gating "
                  "findings, whose reports are not shown (--log-file "
                  "PATH.%p keeps every one)", file=err)


def progress_text(aggregate: Any) -> str:
    findings = aggregate.distinct["new", "error"] + \
        aggregate.distinct["new", "leak"]
    return (f"mpcheck: {aggregate.processes} processes, {findings} "
            f"finding{'s' * (findings != 1)} so far")


class Progress:
    """One line on a terminal, redrawn with \\r at most once every
    PROGRESS_SECONDS and only when it changed, and erased at the end.  The
    cursor is left at the start of the line, so the program's own output
    starts there and overwrites it."""

    def __init__(self, fd):
        self.fd = fd
        self.shown = ""
        self.last = 0.0
        self.lock = threading.Lock()

    def show(self, line, force=False):
        now = time.monotonic()
        with self.lock:
            if line == self.shown or \
                    (not force and now - self.last < PROGRESS_SECONDS):
                return
            self.shown, self.last = line, now
            self.write("\r" + line + "\x1b[K\r")

    def erase(self):
        with self.lock:
            if self.shown:
                self.write("\r\x1b[K")
            self.shown = ""

    def write(self, data):
        with contextlib.suppress(OSError):
            os.write(self.fd, data.encode())


def make_progress(opts: Options) -> Optional[Progress]:
    """A Progress when stderr is a terminal (and not --quiet or
    --no-progress), else None: nothing is drawn into a file or a pipe."""
    if opts.quiet or not opts.progress:
        return None
    try:
        return Progress(2) if os.isatty(2) else None
    except OSError:
        return None


def print_summary(aggregate: Aggregate, summary: Dict[str, Any], opts: Options,
                  relay: Optional[LogRelay] = None) -> None:
    """The text summary on stderr: the relayed text reports, the notes, a
    line per process with new findings, the gating findings with their
    stacks (the first --stacks of them), the total line.  --quiet keeps the
    notes, the stacks of a failing gate and the total line of a failing
    gate or program only."""
    err = sys.stderr
    quiet = opts.quiet
    if relay and not quiet:
        relay.print(err)
    for pid, message in aggregate.notes.items():
        print(f"mpcheck: pid {pid}: {message}", file=err)
    if aggregate.notes.dropped:
        print(f"mpcheck: ... and {aggregate.notes.dropped} more notes "
              "(--json lists the first ones)", file=err)
    if quiet and summary["gate"] != "FAIL" and not summary["program_failed"]:
        return
    if not quiet:
        for pid, line in aggregate.lines.items():
            print(f"mpcheck: pid {pid} {line}", file=err)
        if aggregate.lines.dropped:
            print(f"mpcheck: ... and {aggregate.lines.dropped} more processes"
                  " with new findings", file=err)
    if summary["gate"] == "FAIL" or not quiet:
        print_findings(aggregate, summary, opts.stacks, err)
    for line in test_lines(summary["failing_tests"], summary["tests"]):
        print(f"mpcheck: {line}", file=err)
    print(total_line(summary), file=err)


def total_line(summary: Dict[str, Any]) -> str:
    """The last line: totals, the gate's verdict and, beside it, the
    program's own failure (its status is mpcheck's when the gate passes)."""
    line = (f"mpcheck: {summary['errors']} errors, {summary['leaks']} leaks "
            f"({summary['leak_bytes']} bytes): {summary['findings']} distinct "
            f"findings, {summary['occurrences']} occurrences in "
            f"{summary['processes']} processes; "
            f"{summary['suppressed'] + summary['baseline']} suppressed; "
            f"{report_counts(summary)}gate: {summary['gate']}")
    if not summary["program_failed"]:
        return line
    if summary["gate"] == "PASS":
        return line + f" (no unsuppressed findings); " \
            f"{summary['program_verdict']}"
    return line + f"; {summary['program_verdict']}"


def program_verdict(wait_status: int) -> Optional[str]:
    """What the program's own exit status says, or None when it is 0."""
    if wait_status < 0:
        return f"the program itself was killed by " \
            f"{signal_name(-wait_status)}: status {128 - wait_status}"
    if wait_status:
        return f"the program itself failed: status {wait_status}"
    return None


def print_findings(aggregate: Aggregate, summary: Dict[str, Any], limit: int,
                   err: IO[str]) -> None:
    """The first `limit` gating findings (new: neither suppressed nor in the
    baseline), each with the process that produced it and its stacks (the
    bad access a rerun found first), then a count of the rest."""
    gating = (f for f in aggregate.listed()
              if not f["suppressed"] and not f["baseline"])
    shown = 0
    for finding in gating:
        if shown == limit:
            break
        shown += 1
        for line in finding_lines(finding):
            print(f"mpcheck: {line}", file=err)
    rest = summary["findings"] - shown
    if rest > 0:
        print(f"mpcheck: ... and {rest} more gating findings" +
              (" (--stacks N shows more; --json and --sarif list them)"
               if limit else " (--json and --sarif list them)"), file=err)


def finding_lines(finding: Finding) -> List[str]:
    """A gating finding as summary lines (without the 'mpcheck: ')."""
    located = finding.get("located") or {}
    pid = finding.get("locate_pid") if located else None
    example = next((e for e in finding["examples"] if e["pid"] == pid),
                   finding["examples"][0] if finding["examples"] else None)
    head = f"pid {example['pid']} ({short(example['command'])})" \
        if example else "pid ?"
    if finding.get("tests"):
        head += f" [test{'s' * (len(finding['tests']) > 1)} " \
            f"{', '.join(finding['tests'])}]"
    n = finding["processes"]
    where = f" [in {n} process{'es' * (n != 1)}" + (
        f", {finding['occurrences']} occurrences]"
        if finding["occurrences"] != n else "]")
    if finding["type"] == "leak":
        sampled = f" sampled blocks (~{finding['estimated_bytes']} bytes " \
            "estimated)" if finding.get("estimated_bytes") is not None \
            else " blocks"
        lines = [f"{head}: {finding['kind']} leak of {finding['bytes']} bytes"
                 f" in {finding['blocks']}{sampled}{where}"]
        return lines + stack_lines(json.loads(finding["stack"]), STACK_LINES)
    what = finding_text(finding)
    if located.get("status") == "located":
        lines = [f"{head}: {finding['kind']} located by a rerun with a guard "
                 f"page (pid {located['pid']}): {located['description']}"
                 f"{where}"]
        lines += stack_lines(json.loads(located["stack"]), STACK_LINES)
        lines.append(f"  found late as: {what}")
    elif located.get("status") == "not rerun":
        lines = [f"{head}: {finding['kind']} not located (not rerun: "
                 f"{located['reason']})", f"  found late as: {what}{where}"]
    elif located:
        lines = [f"{head}: {finding['kind']} {located['status']} on rerun: "
                 f"{located['reason']}", f"  found late as: {what}{where}"]
    else:
        lines = [f"{head}: {finding['kind']}: {what}{where}"]
    stacks = [("detected late, at:" if finding.get("late") else "", "stack"),
              ("allocated by:", "alloc_stack"), ("freed by:", "free_stack")]
    if located.get("status") == "located":
        stacks = stacks[1:2]            # the access replaces the late check
    for label, key in stacks:
        stack = json.loads(finding.get(key) or "[]")
        if not stack:
            continue
        if label:
            lines.append(f"  {label}")
        lines += stack_lines(stack, STACK_LINES if key == "stack" else
                             STACK_LINES // 2)
    return lines


def finding_text(finding: Finding) -> str:
    """An error's own description, or what its address and block say."""
    if finding.get("description"):
        return finding["description"] + (
            f" ({finding['location']})" if finding.get("location") else "")
    if finding.get("block_size") is None:
        return f"at {finding.get('address')}, in no heap block"
    return (f"at {finding.get('address')}: offset {finding.get('offset')} of "
            f"a {finding['block_size']}-byte block")


def stack_lines(stack: Stack, limit: int) -> List[str]:
    """Frames numbered from the first outside the allocator (malloc, free
    and the library's own are on every stack), at most `limit`."""
    first = next((i for i, f in enumerate(stack) if not is_runtime(f)
                  or text(f, "function") == "main"), len(stack))
    frames = stack[first:] or stack
    lines = [f"    {describe_frame(i, frame)}"
             for i, frame in enumerate(frames[:limit])]
    if len(frames) > limit:
        lines.append(f"    ... {len(frames) - limit} more frames")
    return lines


def report_counts(summary: Dict[str, Any]) -> str:
    """'N processes without a report; M reports ignored; ' for the total
    line, each part only when not 0: a complete run's line is unchanged."""
    parts = ""
    if summary["without_report"]:
        parts += f"{summary['without_report']} processes without a report; "
    if summary["ignored_reports"]:
        parts += f"{summary['ignored_reports']} reports ignored; "
    if summary.get("unchecked_system_processes"):
        parts += (f"{summary['unchecked_system_processes']} system processes "
                  "not checked (--system-leaks checks them); ")
    return parts


def print_generated_suppressions(aggregate: Aggregate) -> None:
    for comment, lines in aggregate.generated:
        print(comment, file=sys.stderr)
        for line in lines:
            print(line, file=sys.stderr)
