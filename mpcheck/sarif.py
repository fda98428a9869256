"""mpcheck.sarif - the --sarif log (SARIF 2.1.0): one rule per kind, one
result per finding placed at the first frame a user can edit, with code
flows for its stacks, paths relative to the source root (SRCROOT)."""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import subprocess
import urllib.parse
from typing import Any, Dict, IO, List, Optional, Set

from .common import LEAK_KINDS, VERSION, Finding, Frame, Stack, compact, short
from .frames import describe_frame, is_runtime, text
from .cli import Options
from .findings import Aggregate


# Sources the user does not edit: a SARIF result is never placed here.
SYSTEM_SOURCE_PREFIXES = ("/usr/include/", "/usr/lib/gcc/", "/usr/src/")
RULES = {
    "heap-buffer-overflow": ("HeapBufferOverflow",
                             "Access past the end of a heap block"),
    "heap-buffer-underflow": ("HeapBufferUnderflow",
                              "Access before the start of a heap block"),
    "double-free": ("DoubleFree", "Heap block freed twice"),
    "invalid-free": ("InvalidFree",
                     "Free of a pointer that is not a live heap block"),
    "use-after-free": ("UseAfterFree", "Heap block used after it was freed"),
    "alloc-dealloc-mismatch": (
        "AllocDeallocMismatch",
        "Heap block freed by another family than allocated it "
        "(malloc/delete, new/free, new[]/delete, aligned/plain new)"),
    "new-delete-type-mismatch": (
        "NewDeleteTypeMismatch",
        "Sized or aligned operator delete given another size or alignment "
        "than the allocation's"),
    "invalid-alignment": ("InvalidAlignment",
                          "Aligned allocation with an alignment that is not "
                          "a power of two (or not a multiple of "
                          "sizeof(void *) for posix_memalign)"),
    "allocation-size-too-big": ("AllocationSizeTooBig",
                                "Allocation of a negative or impossibly "
                                "large size"),
    "calloc-overflow": ("CallocOverflow",
                        "calloc or reallocarray whose nmemb * size "
                        "overflows"),
    "realloc-size-zero": ("ReallocSizeZero",
                          "realloc(p, 0): frees p and returns NULL"),
    "alloc-size-zero": ("AllocSizeZero",
                        "posix_memalign, memalign or aligned_alloc of size "
                        "0, whose result is implementation-defined"),
    "fishy-value": ("FishyValue",
                    "calloc argument with a negative value (the other "
                    "being 0)"),
    "definite": ("DefiniteLeak",
                 "Heap block no longer referenced at exit"),
    "indirect": ("IndirectLeak",
                 "Heap block referenced only from leaked blocks at exit"),
    "possible": ("PossibleLeak",
                 "Heap block referenced only through interior pointers"),
    "reachable": ("ReachableLeak", "Heap block still referenced at exit"),
}
SRCROOT = "SRCROOT"                 # the uriBaseId of the source root
ROOT_PROBES = 8                     # source directories asked of git


def git_toplevel(directory: str) -> Optional[str]:
    """git's top level of the work tree holding directory, or None (no git,
    not in a work tree, git too slow)."""
    try:
        out = subprocess.run(["git", "-C", directory, "rev-parse",
                              "--show-toplevel"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    top = out.stdout.decode("utf-8", "replace").strip()
    return top if out.returncode == 0 and os.path.isabs(top) else None


def source_root(opts: Options, findings: List[Finding]) -> str:
    """The directory SARIF URIs are relative to: --source-root; else git's
    top level of the program's sources (the directory of the first user
    source files results are placed at); else of the current directory;
    else the current directory.  The same from any working directory."""
    if opts.source_root:
        return os.path.realpath(opts.source_root)
    tried: Set[str] = set()
    for finding in findings[:100]:
        if len(tried) >= ROOT_PROBES:
            break
        frame: Any = result_anchor(finding)
        path = text(frame, "file") if frame else None
        if not path or not os.path.isabs(path) or is_system_source(frame):
            continue
        directory = os.path.dirname(os.path.normpath(path))
        if directory in tried or not os.path.isdir(directory):
            continue
        tried.add(directory)
        top = git_toplevel(directory)
        if top:
            return os.path.realpath(top)
    top = git_toplevel(os.getcwd())
    return os.path.realpath(top or os.getcwd())


def artifact_location(path: str, root: str) -> Dict[str, str]:
    """{"uri", "uriBaseId"} relative to root when the file is inside it,
    with '..' resolved (a CMake build's tests/../x.c is x.c), else an
    absolute file: URI; a relative path is kept as the compiler wrote it."""
    if not os.path.isabs(path):
        return {"uri": urllib.parse.quote(os.path.normpath(path))}
    normal = os.path.normpath(path)
    for candidate in (normal, os.path.realpath(normal)):
        relative = os.path.relpath(candidate, root)
        if relative != ".." and not relative.startswith("../"):
            return {"uri": urllib.parse.quote(relative),
                    "uriBaseId": SRCROOT}
    return {"uri": pathlib.PurePosixPath(normal).as_uri()}


def root_uri(root: str) -> str:
    return pathlib.PurePosixPath(root).as_uri().rstrip("/") + "/"


def anchor_stacks(finding: Finding) -> List[Stack]:
    """The stacks a result may be placed in, in order: the bad access a
    rerun located; for damage found late (at free or exit) the allocation
    only, never the free path or cleanup code that merely found it; else
    the finding's own stack, then its allocation and free stacks."""
    stacks = []
    located = finding.get("located") or {}
    if located.get("status") == "located":
        stacks.append(json.loads(located["stack"]))
    keys = ("alloc_stack",) if finding.get("late") else \
        ("stack", "alloc_stack", "free_stack")
    return stacks + [json.loads(finding[key]) for key in keys
                     if key in finding]


def result_anchor(finding: Finding) -> Optional[Frame]:
    return anchor_frame(anchor_stacks(finding))


def sarif_location(frame: Frame, message: Optional[str] = None,
                   root: Optional[str] = None) -> Dict[str, Any]:
    location: Dict[str, Any] = {}
    path = text(frame, "file") or text(frame, "module")
    if path:
        physical: Dict[str, Any] = {"artifactLocation": artifact_location(
            path, root or os.getcwd())}
        line = frame.get("line")
        if text(frame, "file") and isinstance(line, int) and line > 0:
            physical["region"] = {"startLine": line}
        location["physicalLocation"] = physical
    if text(frame, "function"):
        location["logicalLocations"] = [{"fullyQualifiedName":
                                         text(frame, "function"),
                                         "kind": "function"}]
    if message:
        location["message"] = {"text": message}
    return location


def is_system_source(frame: Frame) -> bool:
    return any(name.startswith(SYSTEM_SOURCE_PREFIXES) for name in
               (text(frame, "file") or "", text(frame, "module") or ""))


def anchor_frame(stacks: List[Stack]) -> Optional[Frame]:
    """Where a result points: the first frame with a source file in the
    user's code (not in the runtime, system headers or system libraries),
    else the first frame in a user's module, else any frame with a path
    outside the runtime (the allocator, libc, libstdc++).
    The stacks are tried in order: an error found at exit or at quarantine
    eviction has no detection stack, and is placed where the block was
    allocated or freed."""
    tests = (lambda f: text(f, "file") and not is_runtime(f) and
             not is_system_source(f),
             lambda f: text(f, "module") and not is_runtime(f) and
             not is_system_source(f),
             lambda f: (text(f, "file") or text(f, "module")) and
             not is_runtime(f))
    for test in tests:
        for stack in stacks:
            frame = next((f for f in stack if test(f)), None)
            if frame is not None:
                return frame
    return None


def sarif_code_flow(stack: Stack, label: str, root: str) -> Dict[str, Any]:
    return {"message": {"text": label},
            "threadFlows": [{"locations": [
                {"location": sarif_location(frame, describe_frame(i, frame),
                                            root)}
                for i, frame in enumerate(stack)]}]}


def sarif_message(finding: Finding) -> str:
    example = finding["examples"][0]
    where = f"in {finding['processes']} process" + \
        "es" * (finding["processes"] != 1) + \
        f", e.g. pid {example['pid']} ({short(example['command'])})"
    if finding.get("tests"):
        where += f", in test{'s' * (len(finding['tests']) > 1)} " + \
            ", ".join(finding["tests"])
    if finding["type"] == "leak":
        return (f"{finding['kind']} leak of {finding['bytes']} bytes in "
                f"{finding['blocks']} blocks {where}")
    rerun = finding.get("located") or {}
    if rerun.get("status") == "located":
        return (f"{finding['kind']}: {rerun['description']} (located by a "
                "rerun with a guard page at the allocation site; found "
                f"late as: {finding['description']}) {where}")
    if rerun.get("status") == "not rerun":
        where += f" (not located: not rerun, {rerun['reason']})"
    elif rerun:
        where += f" ({rerun['status']} on rerun: {rerun['reason']})"
    if finding.get("description"):      # the report's own locating line
        located = f" ({finding['location']})" if finding.get("location") else ""
        return f"{finding['kind']}: {finding['description']}{located} {where}"
    if finding["block_size"] is None:   # the address is in no known block
        return (f"{finding['kind']} at {finding['address']}, in no heap "
                f"block, {where}")
    return (f"{finding['kind']} at {finding['address']}: offset "
            f"{finding['offset']} of a {finding['block_size']}-byte block "
            f"{where}")


def sarif_rule(kind: str) -> Dict[str, Any]:
    name, description = RULES.get(kind, (kind.title().replace("-", ""),
                                         f"mpwrap {kind} finding"))
    return {"id": kind, "name": name,
            "shortDescription": {"text": description},
            "fullDescription": {"text": description + "."},
            "help": {"text": description + ". See docs/mpcheck.md "
                     "for suppressions."},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["memory", "leak" if kind in LEAK_KINDS
                                    else "memory-error"]}}


def sarif_result(finding: Finding, kinds: List[str], opts: Options,
                 executable: str, root: str) -> Dict[str, Any]:
    stacks = [json.loads(finding[key]) for key in
              ("stack", "alloc_stack", "free_stack") if key in finding]
    labels = ["stack of the finding", "allocated here", "freed here"]
    located = finding.get("located") or {}
    if located.get("status") == "located":  # the bad access comes first
        stacks.insert(0, json.loads(located["stack"]))
        labels.insert(0, "bad access (rerun with a guard page)")
    anchor = result_anchor(finding)
    # GitHub rejects a result without a location: with no frame at all,
    # the program that was run is the only place there is
    location = sarif_location(anchor, root=root) if anchor else {
        "physicalLocation": {"artifactLocation": artifact_location(
            os.path.abspath(executable), root)},
        "message": {"text": "no stack was recorded"}}
    result = {"ruleId": finding["kind"],
              "ruleIndex": kinds.index(finding["kind"]),
              "level": "error",
              "message": {"text": sarif_message(finding)},
              "locations": [location],
              "partialFingerprints": {
                  "mpwrapFingerprint/v1": finding["fingerprint"]},
              "properties": {"processes": finding["processes"],
                             "occurrences": finding["occurrences"],
                             "examples": finding["examples"]}}
    if finding.get("tests"):
        result["properties"]["tests"] = finding["tests"]
    if located:
        result["properties"]["located"] = located["status"]
    flows = [sarif_code_flow(stack, label, root) for stack, label in
             zip(stacks, labels) if stack]
    if flows:
        result["codeFlows"] = flows
    if opts.baselines:
        result["baselineState"] = "unchanged" if finding["baseline"] \
            else "new"
    return result


def sarif_log(kinds: List[str], opts: Options, program_status: int,
              root: str) -> Dict[str, Any]:
    """The log without its results."""
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {
                "name": "mpwrap", "version": VERSION,
                "semanticVersion": VERSION,
                "rules": [sarif_rule(kind) for kind in kinds]}},
                # Lets code scanning resolve the absolute file: URIs of
                # frames outside the checkout instead of rejecting the log.
                "invocations": [{
                    "executionSuccessful": True,
                    "commandLine": shlex.join(opts.command),
                    "exitCode": program_status,
                    "workingDirectory": {"uri": root_uri(os.getcwd())}}],
                # what the relative URIs are relative to
                "originalUriBaseIds": {SRCROOT: {"uri": root_uri(root)}},
                "results": []}]}


def write_sarif(f: IO[str], aggregate: Aggregate, opts: Options,
                program_status: int, executable: str) -> None:
    """The SARIF log, its results written one at a time (ten thousand of
    them as objects would take more memory than the whole run)."""
    # Suppressed findings are left out: code scanning ignores SARIF's
    # `suppressions` and would open an alert for each one (every leak of
    # the toolchain under `make test`).  Baseline findings stay: they are
    # real and still ours to fix.
    findings = [f for f in aggregate.listed() if not f["suppressed"]]
    kinds = sorted({f["kind"] for f in findings})
    root = source_root(opts, findings)
    head, tail = compact(sarif_log(kinds, opts, program_status,
                                   root)).rsplit('"results":[]', 1)
    f.write(head + '"results":[\n')
    for i, finding in enumerate(findings):
        f.write((",\n" if i else "") + compact(sarif_result(
            finding, kinds, opts, executable, root)))
    f.write("\n]" + tail + "\n")
