"""mpcheck.findings - the findings of a run: their keys and fingerprints,
the raw findings of one report, and Aggregate, which groups them across
processes (suppressed, baseline, new), keeps examples and per-process lines
within fixed bounds and spools the process list."""

from __future__ import annotations

import bisect
import collections
import hashlib
import heapq
import os
from typing import (
    Any, Counter, Dict, Iterator, List, Mapping, Optional, Sequence, Set)

from .common import (
    ERROR_KINDS, LEAK_KINDS, LOCATABLE_KINDS, UNREPORTED, Finding, Report,
    compact, one_line, short)
from .frames import is_runtime, text
from .flame import folded_lines
from .suppress import first_match, suppression_lines, system_leak
from .reports import _dicts, launch_of
from .testnames import TestNames


# Bounds that keep mpcheck's memory and output independent of the suite's
# size: per-process lines printed, findings listed with their stacks,
# example processes per finding.
PROCESS_LINES = 20
MAX_FINDINGS = 10000
EXAMPLES = 3
# Test names listed per finding, and distinct test names counted (a suite
# of more than MAX_TESTS tests counts the first ones; the summary says so).
TESTS_PER_FINDING = 20
MAX_TESTS = 100000
# --locate: processes rerun per run (each at most once).
LOCATE_MAX_PROCESSES = 10


def finding_key(finding: Finding) -> str:
    """What makes two findings one: their type, kind and every name a
    suppression can see (function, module and file of each frame), so all
    occurrences of a finding are suppressed or none.  Finer than the
    fingerprint, which leaves the runtime's frames out."""
    names = "\n".join(f"{frame.get('function')}|{frame.get('module')}|"
                      f"{frame.get('file')}" for frame in finding["stack"])
    return hashlib.sha256(f"{finding['type']}|{finding['kind']}\n{names}"
                          .encode()).hexdigest()[:32]


def fingerprint(finding: Finding) -> str:
    """Stable across runs and rebuilds: kind plus the names along the stack,
    without pids, addresses or line numbers (which move with every edit)."""
    parts = [finding["type"], finding["kind"]]
    for frame in finding["stack"]:
        if not is_runtime(frame):
            parts.append(text(frame, "function") or
                         os.path.basename(text(frame, "module") or "?"))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _count(value):
    return value if isinstance(value, int) else 0


def test_of(data: Report) -> Optional[str]:
    """The test a process report belongs to, as the library found it at
    start (MPWRAP_TEST_NAME, PYTEST_CURRENT_TEST, an automake driver's
    --test-name), or None (testnames then looks at its ancestors)."""
    test = data.get("test")
    name = test.get("name") if isinstance(test, dict) else None
    return name if isinstance(name, str) and name else None


def test_lines(names: Sequence[str], seen: int, limit: int = 20) -> List[str]:
    """'findings in 1 of 3 tests: a, b' and, past `limit` names, a count of
    the others: the summary's lines about tests (none when no process named
    its test)."""
    if not seen:
        return []
    head = f"findings in {len(names)} of {seen} test{'s' * (seen != 1)}"
    if not names:
        return [head]
    shown = ", ".join(names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return [f"{head}: {shown}{more}"]


def raw_findings(data: Report, gated: Sequence[str]) -> Iterator[Finding]:
    """The errors and the leaks of gating kinds in one process report, as
    finding dicts (leaks of other kinds were not asked for)."""
    for error in _dicts(data.get("errors")):
        yield {"type": "error", "kind": str(error.get("kind", "unknown")),
               "address": error.get("address"),
               "description": error.get("description"),
               "location": (error.get("location") or {}).get("text")
               if isinstance(error.get("location"), dict) else None,
               "block_size": error.get("block_size"),
               "offset": error.get("offset"),
               "guard_page_site": error.get("guard_page_site")
               if isinstance(error.get("guard_page_site"), str) else None,
               # damage found after the fact (guard or poison bytes), not
               # at the access: what --locate reruns for
               "late": error.get("kind") in LOCATABLE_KINDS and
               _count(error.get("count")) > 0,
               "stack": _dicts(error.get("stack")),
               "alloc_stack": _dicts(error.get("alloc_stack")),
               "free_stack": _dicts(error.get("free_stack"))}
    for leak in _dicts(data.get("leaks")):
        if leak.get("kind") in gated:
            estimate = leak.get("estimate")     # sampled mode (--sample)
            raw = {"type": "leak", "kind": leak["kind"],
                   "bytes": _count(leak.get("bytes")),
                   "blocks": _count(leak.get("blocks")),
                   "estimated_bytes": _count(estimate.get("bytes"))
                   if isinstance(estimate, dict) else None,
                   "stack": _dicts(leak.get("stack"))}
            # a scope's leak (mp_scope_end) names its test itself
            if isinstance(leak.get("test"), str) and leak["test"]:
                raw["test"] = leak["test"]
            yield raw


def capped_process(data: Report, max_groups: int) -> Dict[str, Any]:
    """A process report for the aggregated JSON with at most max_groups
    errors and leak groups (the largest leaks), the rest counted: a process
    with a million leak groups must not make a million-entry report."""
    # the environment (json_environ, for --locate) may hold secrets: it
    # stays out of the aggregated report
    entry = {k: v for k, v in data.items()
             if k not in ("errors", "leaks", "environ")}
    errors = _dicts(data.get("errors"))
    leaks = sorted(_dicts(data.get("leaks")),
                   key=lambda leak: -_count(leak.get("bytes")))
    cut = max_groups or None
    entry["errors"], entry["leaks"] = errors[:cut], leaks[:cut]
    rest = leaks[len(entry["leaks"]):]
    entry["errors_not_listed"] = len(errors) - len(entry["errors"])
    entry["leaks_not_listed"] = {
        "groups": len(rest),
        "bytes": sum(_count(leak.get("bytes")) for leak in rest),
        "blocks": sum(_count(leak.get("blocks")) for leak in rest)}
    return entry


class Lines:
    """The first `limit` lines of something per process (the per-process
    summary lines, the notes), by pid, and a count of the others."""

    def __init__(self, limit):
        self.limit = limit
        self.kept = []                  # heap of (-pid, text): drop largest
        self.dropped = 0

    def add(self, pid, text_):
        heapq.heappush(self.kept, (-pid, text_))
        if len(self.kept) > self.limit:
            heapq.heappop(self.kept)
            self.dropped += 1

    def items(self):
        return sorted((-neg, t) for neg, t in self.kept)


class Aggregate:
    """Every process report folded into one set of distinct findings, as the
    reports arrive.  Memory grows with the number of distinct findings (their
    stacks are kept for the first MAX_FINDINGS only), never with the number
    of processes or occurrences; the per-process entries of --json go to a
    spool file."""

    def __init__(self, opts, suppressions, baseline, spool):
        self.opts = opts
        self.suppressions = suppressions
        self.baseline = baseline
        self.spool = spool
        self.gated = () if opts.no_leaks else tuple(opts.leak_kinds)
        self.findings = {}              # finding_key -> listed finding
        self.unlisted = {}              # 64-bit key -> status, past the cap
        self.entries = {}               # suppression line -> None, in order
        self.generated = []             # (comment, lines) per new finding
        self.processes = 0
        # distinct test names among the processes, and those with gating
        # findings (at most MAX_TESTS of each)
        self.tests: Set[str] = set()
        self.failing_tests: Set[str] = set()
        self.tests_not_counted = 0
        self.names = TestNames()        # CTest, meson test, prove
        self.lines = Lines(PROCESS_LINES)
        self.notes = Lines(PROCESS_LINES)
        # distinct findings per status and type, and what their occurrences
        # add up to
        self.distinct: Counter = collections.Counter()
        self.occurrences: Counter = collections.Counter()
        self.bytes: Counter = collections.Counter()
        self.unlisted_counts: Counter = collections.Counter()
        self.without_report: Counter = collections.Counter()   # reason -> processes
        self.unchecked: Counter = collections.Counter()   # reason -> processes
        self.ignored_reports = 0
        self.passed: Counter = collections.Counter()     # system program -> processes
        self.launches = {}              # pid -> how it started (--locate)
        # --flamegraph: folded stack -> value, every process added in
        # (bounded by the distinct stacks, as the findings are)
        self.flame: Counter = collections.Counter()
        # --html: each process's entry for the page (an htmldata.HtmlData,
        # set by main)
        self.html: Any = None

    def note(self, pid, message):
        self.notes.add(pid, message)

    def passed_through(self, program):
        """A system program's process run unchecked (system_passthrough)."""
        self.passed[program] += 1

    def missing(self, pid, reason, message):
        """A process that left no report: its findings, if any, are not in
        the verdict, which says how many there were and why."""
        self.without_report[reason] += 1
        self.note(pid, message)

    def ignored(self, pid, name, reason):
        """A report file that was not read: one note, never a traceback."""
        self.ignored_reports += 1
        self.note(pid, f"ignored report {name}: {reason}")

    def classify(self, raw):
        """(status, where) of a finding: suppressed, baseline or new."""
        rule = first_match(self.suppressions, raw)
        if rule:
            return "suppressed", rule.where
        if not self.opts.system_leaks and system_leak(raw):
            return "suppressed", "system program (--system-leaks gates on these)"
        known = first_match(self.baseline, raw)
        return ("baseline", known.where) if known else ("new", None)

    def first_sight(self, raw, pid, command):
        """Classify a finding never seen before; returns its status."""
        status, where = self.classify(raw)
        self.distinct[status, raw["type"]] += 1
        if status != "suppressed":
            lines = suppression_lines(raw)
            self.entries.update(dict.fromkeys(lines))
            if status == "new" and self.opts.gen_suppressions:
                self.generated.append(
                    (f"# {raw['kind']}, first in pid {pid}: "
                     f"{one_line(command)}", lines))
        if len(self.findings) >= MAX_FINDINGS:
            self.unlisted[int(raw["key"][:16], 16)] = status
            self.unlisted_counts[status] += 1
            return status
        finding = {k: v for k, v in raw.items()
                   if k not in ("key", "stack", "alloc_stack", "free_stack")}
        finding["fingerprint"] = fingerprint(raw)
        # a stack as compact JSON text costs a tenth of its dicts
        for key in ("stack", "alloc_stack", "free_stack"):
            if key in raw:
                finding[key] = compact(raw[key])
        if raw.get("estimated_bytes") is not None:
            finding["estimated_bytes"] = 0      # count() adds each one
        finding.update(bytes=0, blocks=0, occurrences=0, processes=0,
                       examples=[], tests=[], last_pid=None,
                       suppressed=status == "suppressed",
                       suppressed_by=where if status == "suppressed" else None,
                       baseline=status == "baseline",
                       baseline_by=where if status == "baseline" else None)
        self.findings[raw["key"]] = finding
        return status

    def count(self, finding, raw, pid, command, test=None):
        """One more occurrence of a listed finding."""
        if test is not None and test not in finding["tests"] and \
                len(finding["tests"]) < TESTS_PER_FINDING:
            bisect.insort(finding["tests"], test)   # sorted: reports
            # arrive in no fixed order
        finding["occurrences"] += 1
        if raw["type"] == "leak":
            finding["bytes"] += raw["bytes"]
            finding["blocks"] += raw["blocks"]
            if raw.get("estimated_bytes") is not None:
                finding["estimated_bytes"] = \
                    finding.get("estimated_bytes", 0) + raw["estimated_bytes"]
        if finding["last_pid"] != pid:  # one report arrives at a time
            finding["last_pid"] = pid
            finding["processes"] += 1
            if len(finding["examples"]) < EXAMPLES:
                example = {"pid": pid, "command": command}
                if test is not None:
                    example["test"] = test
                finding["examples"].append(example)

    def fold(self, pid, data):
        """Fold one process report in; True when it had a new (gating)
        finding."""
        command = data.get("command")
        command = command if isinstance(command, str) else "?"
        self.processes += 1
        test = test_of(data)
        if test is None:
            found = self.names.name(data)
            if found is not None:
                # recorded with the process, as if the library had found it
                test = found[0]
                data["test"] = {"name": test, "from": found[1]}
            for problem in self.names.problems:
                self.note(pid, problem)
            self.names.problems.clear()
        for name in self.names.listed + ([test] if test is not None else []):
            if name not in self.tests:
                if len(self.tests) < MAX_TESTS:
                    self.tests.add(name)
                else:
                    self.tests_not_counted += 1
        self.names.listed.clear()
        process_test = test
        if self.spool:
            self.spool.write(compact(capped_process(
                data, self.opts.max_groups)) + "\n")
        if self.opts.flamegraph and isinstance(data.get("profile"), dict):
            try:
                for line in folded_lines(data, self.opts.flamegraph_of):
                    stack, _, value = line.rpartition(" ")
                    self.flame[stack] += int(value)
            except (ValueError, TypeError, AttributeError, KeyError):
                self.note(pid, "its heap profile could not be read")
        if self.html is not None:
            try:
                self.html.add(pid, data)
            except (ValueError, TypeError, AttributeError, KeyError):
                self.note(pid, "its report could not be put in --html")
        kinds: Counter = collections.Counter()
        nbytes: Counter = collections.Counter()
        for raw in raw_findings(data, self.gated):
            raw["key"] = finding_key(raw)
            test = raw.pop("test", process_test)
            if test is not None and test not in self.tests and \
                    len(self.tests) < MAX_TESTS:
                self.tests.add(test)
            finding = self.findings.get(raw["key"])
            status: Optional[str]
            if finding is not None:
                status = "suppressed" if finding["suppressed"] else \
                    "baseline" if finding["baseline"] else "new"
                self.count(finding, raw, pid, command, test)
            else:
                status = self.unlisted.get(int(raw["key"][:16], 16))
                if status is None:
                    status = self.first_sight(raw, pid, command)
                    finding = self.findings.get(raw["key"])
                    if finding is not None:
                        self.count(finding, raw, pid, command, test)
            self.occurrences[status] += 1
            if finding is not None and status != "suppressed":
                self.remember_locatable(finding, raw, pid, data)
            if status == "new":
                kinds[raw["kind"]] += 1
                nbytes[raw["kind"]] += raw.get("bytes", 0)
                self.bytes[raw["type"]] += raw.get("bytes", 0)
            if status == "new" and test is not None and test in self.tests:
                self.failing_tests.add(test)
        test = process_test
        if kinds:
            in_test = f" [test {test}]" if test is not None else ""
            self.lines.add(pid, f"({short(command)}){in_test}: "
                                f"{kind_counts(kinds, nbytes)}")
        unchecked = data.get("unchecked")
        if isinstance(unchecked, dict):
            # the library could not vouch for this process (another
            # allocator's malloc, no leak check after a crash inside the
            # allocator): its "nothing found" is no pass
            reason = unchecked.get("reason")
            reason = reason if isinstance(reason, str) else "not checked"
            why = unchecked.get("why")
            self.unchecked[reason] += 1
            self.note(pid, f"{reason} ({short(command)})" +
                      (f": {why}" if isinstance(why, str) else ""))
        return bool(kinds)

    def remember_locatable(self, finding, raw, pid, data):
        """--locate: the first process with a late overflow, underflow or
        use after free of this finding is the one to rerun; keep how it was
        started (for at most LOCATE_MAX_PROCESSES processes)."""
        if self.opts.locate is False or not raw.get("late") or \
                "locate_pid" in finding:
            return
        finding["locate_pid"] = pid
        finding["locate_site"] = raw.get("guard_page_site")
        if pid not in self.launches and \
                len(self.launches) < LOCATE_MAX_PROCESSES:
            self.launches[pid] = launch_of(data)

    def listed(self):
        """The listed findings, kind by kind, largest first."""
        order = ERROR_KINDS + LEAK_KINDS
        return sorted(self.findings.values(), key=lambda f: (
            order.index(f["kind"]) if f["kind"] in order else len(order),
            -f["bytes"], f["fingerprint"]))

    def summary(self, program_status, program_verdict=None):
        new_errors = self.distinct["new", "error"]
        new_leaks = self.distinct["new", "leak"]
        without = sum(self.without_report.values())
        gate = "FAIL" if new_errors or new_leaks or \
            self.without_report[UNREPORTED] or self.unchecked or (
                self.opts.strict_reports and (without or self.ignored_reports)) \
            else "PASS"
        if self.opts.baseline_out:
            gate = "SKIPPED"    # adopting a baseline never fails the job
        return {"processes": self.processes,
                "tests": len(self.tests),
                "tests_not_counted": self.tests_not_counted,
                "tests_with_findings": len(self.failing_tests),
                "failing_tests": sorted(self.failing_tests)[:1000],
                "errors": new_errors,
                "leaks": new_leaks,
                "leak_bytes": self.bytes["leak"],
                "findings": new_errors + new_leaks,
                "occurrences": self.occurrences["new"],
                "suppressed": sum(n for (s, _), n in self.distinct.items()
                                  if s == "suppressed"),
                "baseline": sum(n for (s, _), n in self.distinct.items()
                                if s == "baseline"),
                "findings_not_listed": sum(self.unlisted_counts.values()),
                "gated_leak_kinds": list(self.gated),
                "without_report": without,
                "without_report_by_reason": dict(sorted(
                    self.without_report.items())),
                "unchecked_by_reason": dict(sorted(self.unchecked.items())),
                "ignored_reports": self.ignored_reports,
                "unchecked_system_processes": sum(self.passed.values()),
                "unchecked_system_programs": dict(
                    self.passed.most_common(20)),
                "strict_reports": self.opts.strict_reports,
                "gate": gate,
                "program_status": program_status,
                # the program's own failure, beside the gate's verdict
                "program_failed": program_status != 0,
                "program_verdict": program_verdict,
                "located": sum(f.get("located", {}).get("status") ==
                               "located" for f in self.findings.values()),
                "not_located": sum(f.get("located", {}).get("status") not in
                                   (None, "located")
                                   for f in self.findings.values()),
                "notes": [{"pid": pid, "message": msg}
                          for pid, msg in self.notes.items()],
                "notes_not_listed": self.notes.dropped}


def kind_counts(counts: Mapping[str, int], nbytes: Mapping[str, int]) -> str:
    """'1 double-free, 2 definite leaks (96 bytes)' in a fixed kind order."""
    order = ERROR_KINDS + LEAK_KINDS
    parts = []
    for kind in sorted(counts, key=lambda k: (
            order.index(k) if k in order else len(order), k)):
        n = counts[kind]
        parts.append(f"{n} {kind} leak{'s' * (n != 1)} ({nbytes[kind]} bytes)"
                     if kind in LEAK_KINDS else f"{n} {kind}")
    return ", ".join(parts)
