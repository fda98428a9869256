"""mpcheck.locate - --locate: rerun a process that had a late-found heap
error, alone, with a guard page at the allocation site, and record on the
finding the faulting access the rerun caught (or why it could not)."""

from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import stat
import subprocess
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .common import Finding, Stack, compact, signal_name
from .frames import text
from .cli import Options
from .reports import REPORT_NAME, Ignored, _dicts, parse_report, read_report
from .findings import LOCATE_MAX_PROCESSES, Aggregate
from .text import Progress
from .run import build_env

# a rerun: its pid, wait status and why it failed (None where it did not;
# the status is None when it could not start)
Rerun = Tuple[Optional[int], Any, Optional[str]]


# The frames of an allocation stack that name its site (the library's
# MP_SITE_FRAMES, src/gpsites.h).
SITE_FRAMES = 3


def site_of(stack: Stack) -> str:
    """The site key of an allocation stack, as the library makes it
    (src/gpsites.c): its first SITE_FRAMES frames as module+offset, up to
    main."""
    parts = []
    for frame in stack[:SITE_FRAMES]:
        module, offset = text(frame, "module"), text(frame, "offset")
        if not module or not offset:
            break
        parts.append(f"{os.path.basename(module)}+{offset}")
        if text(frame, "function") == "main":
            break
    return "/".join(parts)


def rerun_env(launch: Dict[str, Any], opts: Options, library: str, rundir: str,
              sites: List[str]) -> Dict[bytes, bytes]:
    """The process's own environment (mpcheck's when the report has none),
    with the library first in LD_PRELOAD and the options of a rerun: its
    report in rundir, its text report out of the way, guard pages at the
    sites."""
    if launch["environ"] is not None:
        env = dict(item.partition(b"=")[::2] for item in launch["environ"]
                   if b"=" in item)
    else:
        env = {os.fsencode(k): os.fsencode(v) for k, v in
               build_env(opts, library, rundir).items()}
    inherited = [p for p in re.split(rb"[:\s]+", env.get(b"LD_PRELOAD", b""))
                 if p and os.path.basename(p) != b"libmpwrap.so"]
    env[b"LD_PRELOAD"] = b":".join([os.fsencode(library)] + inherited)
    options = dict(pair.partition(b"=")[::2] for pair in
                   re.split(rb"[:\s]+", env.get(b"MPWRAP_OPTIONS", b""))
                   if pair)
    # (a rerun's system programs leave no trace in the run's directory)
    for key in (b"start_path", b"json_environ", b"passthrough_path"):
        options.pop(key, None)
    options.update({
        b"json_path": os.fsencode(os.path.join(rundir, "mpwrap.%p.json")),
        b"log_path": os.fsencode(os.path.join(rundir, "mpwrap.%p.log")),
        b"exitcode": b"0", b"report_at_exit": b"1",
        b"guard_page_sites": ",".join(sites).encode()})
    env[b"MPWRAP_OPTIONS"] = b":".join(k + b"=" + v
                                       for k, v in options.items())
    return env


def kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def rerun(launch: Dict[str, Any], env: Dict[bytes, bytes], timeout: float,
          stdin: Any = subprocess.DEVNULL,
          limit: str = "--locate-timeout") -> Rerun:
    """Run the process again, alone in a session of its own (so a rerun
    that hangs is killed with everything it started), without a terminal
    or output.  Returns (pid, wait status, why it failed or None)."""
    try:
        child = subprocess.Popen(
            launch["argv"], executable=launch["executable"],
            cwd=launch["cwd"], env=env, stdin=stdin,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
    except OSError as e:
        return None, None, f"it could not be started again ({e.strerror})"
    try:
        status = child.wait(timeout)
        why = None
    except subprocess.TimeoutExpired:
        kill_group(child.pid)
        status = child.wait()
        why = f"the rerun (pid {child.pid}) did not end within {timeout} s " \
              f"and was killed ({limit})"
    finally:                        # what it left running, or interrupted
        kill_group(child.pid)
    return child.pid, status, why


def rerun_faults(rundir: str) -> Tuple[List[Dict[str, Any]], bool]:
    """The errors a guard page caught in the reports of a rerun: its own
    and its descendants' (a forked child runs the same code), and whether
    any report could be read."""
    faults, read = [], False
    dir_fd = os.open(rundir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in sorted(os.listdir(dir_fd)):
            if not REPORT_NAME.fullmatch(name):
                continue
            try:
                data = parse_report(read_report(dir_fd, name))
            except (Ignored, OSError):
                continue
            read = True
            faults += [e for e in _dicts(data.get("errors"))
                       if e.get("function") == "guard page"]
    finally:
        os.close(dir_fd)
    return faults, read


def ended(status: int) -> str:
    return f"was killed by {signal_name(-status)}" if status < 0 else \
        f"exited with status {status}"


def locate_process(pid: int, findings: List[Finding], launch: Dict[str, Any],
                   opts: Options, library: str, tmpdir: str,
                   timeout: Optional[float] = None,
                   stdin: Optional[Dict[str, Any]] = None) -> None:
    """Rerun process pid once with guard pages at the sites of its late
    findings; record on each finding what the rerun found."""
    rundir = os.path.join(tmpdir, f"locate.{pid}")
    os.mkdir(rundir)
    sites = list(dict.fromkeys(f["locate_site"] for f in findings))
    limit = "--locate-timeout" if timeout is None or \
        timeout >= opts.locate_timeout else "--locate-budget"
    status: Any                 # a wait status once the rerun ran
    with rerun_stdin(stdin) as (fd, why):
        if why:
            child, status = None, None
        else:
            child, status, why = rerun(
                launch, rerun_env(launch, opts, library, rundir, sites),
                min(timeout or opts.locate_timeout, opts.locate_timeout),
                fd, limit)
    faults, read = rerun_faults(rundir) if child is not None else ([], False)
    if why is None and not read:
        why = f"the rerun (pid {child}) {ended(status)} without writing a " \
              "report"
    for finding in findings:
        site = finding["locate_site"].split("@", 1)[-1]
        hit = next((e for e in faults if e.get("kind") == finding["kind"] and
                    site_of(_dicts(e.get("alloc_stack"))) == site), None)
        if hit is not None:
            location = hit.get("location")
            finding["located"] = {
                "status": "located", "pid": child,
                "access": hit.get("access"),
                "description": hit.get("description"),
                "location": location.get("text")
                if isinstance(location, dict) else None,
                "stack": compact(_dicts(hit.get("stack")))}
            continue
        if why is None:
            why = f"the rerun (pid {child}) {ended(status)}" + (
                " after a bad access to another block" if faults else
                " without a bad access to a block of this site") + \
                f" ({finding['locate_site']})"
        finding["located"] = {"status": "not reproduced", "pid": child,
                              "reason": why}


def stdin_of_run() -> Dict[str, Any]:
    """What the program's own process gets as stdin (mpcheck's): a regular
    file (its path and the offset it starts at: a rerun reads the same
    bytes), a pipe, FIFO or socket (consumed: a rerun cannot replay it),
    a terminal, or anything else (/dev/null, closed)."""
    try:
        st = os.fstat(0)
    except OSError:
        return {"kind": "none"}
    if stat.S_ISREG(st.st_mode):
        try:
            return {"kind": "file", "path": os.readlink("/proc/self/fd/0"),
                    "offset": os.lseek(0, 0, os.SEEK_CUR),
                    "id": (st.st_dev, st.st_ino)}
        except OSError:
            return {"kind": "pipe"}     # unreadable as a path: no replay
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode):
        return {"kind": "pipe"}
    return {"kind": "terminal" if os.isatty(0) else "none"}


@contextlib.contextmanager
def rerun_stdin(stdin: Optional[Dict[str,
                Any]]) -> Iterator[Tuple[Any, Optional[str]]]:
    """(fd or DEVNULL, why not) for a rerun: the same regular file from the
    offset the program started at, else /dev/null."""
    if not stdin or stdin["kind"] != "file":
        yield subprocess.DEVNULL, None
        return
    try:
        fd = os.open(stdin["path"], os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        yield None, f"its standard input '{stdin['path']}' cannot be " \
            f"opened again ({e.strerror})"
        return
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != stdin["id"]:
            yield None, f"its standard input '{stdin['path']}' was replaced"
        else:
            os.lseek(fd, stdin["offset"], os.SEEK_SET)
            yield fd, None
    finally:
        os.close(fd)


def why_not_rerun(finding: Finding, pid: int, aggregate: Aggregate,
                  opts: Options, child_pid: Optional[int],
                  stdin: Dict[str, Any]) -> Optional[str]:
    """None when process pid can be rerun deterministically for this
    finding, else why not.  Deterministic here means: the report records
    argv, executable, working directory and (unless --locate asked
    explicitly) the initial environment; and the program's own process did
    not read a pipe (a rerun gets the same regular file from the same
    offset, or /dev/null for a terminal or nothing)."""
    launch = aggregate.launches.get(pid)
    if not finding.get("locate_site"):
        return "its allocation site has no module+offset to target"
    if pid not in aggregate.launches:
        return f"at most {LOCATE_MAX_PROCESSES} processes are rerun"
    if launch is None or not launch["cwd"] or not launch["executable"]:
        return "the report does not say how the process was started"
    if opts.locate is None and launch["environ"] is None:
        return "the report does not record the process's environment"
    if opts.locate is None and pid == child_pid and stdin["kind"] == "pipe":
        return ("its standard input was a pipe, which a rerun cannot "
                "replay (--locate reruns it with /dev/null)")
    return None


def locate_all(opts: Options, aggregate: Aggregate, library: str, tmpdir: str,
               child_pid: Optional[int] = None,
               stdin: Optional[Dict[str, Any]] = None,
               progress: Optional[Progress] = None) -> None:
    """Each process with late damage is rerun once, the first
    LOCATE_MAX_PROCESSES of them that can be rerun, within --locate-budget
    seconds in all; the gate is the original run's."""
    stdin = stdin or {"kind": "none"}
    by_pid = collections.defaultdict(list)
    for finding in aggregate.findings.values():
        pid = finding.get("locate_pid")
        if pid is None:
            continue
        why = why_not_rerun(finding, pid, aggregate, opts, child_pid, stdin)
        if why:
            finding["located"] = {"status": "not rerun", "pid": None,
                                  "reason": why}
        else:
            by_pid[pid].append(finding)
    start = time.monotonic()
    for i, (pid, findings) in enumerate(sorted(by_pid.items()), 1):
        remaining = opts.locate_budget - (time.monotonic() - start)
        if remaining < 0.5:
            for finding in findings:
                finding["located"] = {
                    "status": "not rerun", "pid": None,
                    "reason": f"the --locate-budget of {opts.locate_budget} "
                    "s was spent on earlier reruns"}
            continue
        if progress:
            progress.show(f"mpcheck: locating: rerunning pid {pid} ({i} of "
                          f"{len(by_pid)})", force=True)
        locate_process(pid, findings, aggregate.launches[pid], opts, library,
                       tmpdir, max(1, round(remaining)),
                       stdin if pid == child_pid else None)
