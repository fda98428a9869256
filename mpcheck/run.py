"""mpcheck.run - running the program: its environment (the library
preloaded, the report directory), the subreaper and the process tree,
Collector (reads reports as they appear and accounts for every descendant)
and run_program (signals forwarded, the terminal handed over)."""

from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from .common import (
    UNREPORTED, UNREPORTED_WHY, InputError, short, signal_name)
from .cli import Options
from .reports import (
    PARTIAL_REPORT_NAME, PASSTHROUGH_NAME, REPORT_NAME, START_MARKER_NAME,
    Ignored, parse_report, read_report)
from .text import progress_text

# (name, state, privilege) of a process, all None once it is gone
Status = Tuple[Optional[str], Optional[str], Optional[str]]


# Seconds between looks for new reports.
POLL_SECONDS = 0.2
# Bounds on what the descendant watch keeps: pids whose report was taken
# (to match a process reaped after its report was read), privileged
# processes seen, processes walked per look.
RECENT_REPORTS = 65536
MAX_WATCHED = 10000
PR_SET_CHILD_SUBREAPER = 36         # linux/prctl.h


def build_env(opts: Options, library: str, tmpdir: str) -> Dict[str, str]:
    env = dict(os.environ)
    # A libmpwrap.so inherited from an outer mpcheck would write its report
    # to the same json_path as ours; only one copy may be loaded.
    inherited = [p for p in re.split(r"[:\s]+", env.get("LD_PRELOAD", ""))
                 if p and os.path.basename(p) != "libmpwrap.so"]
    env["LD_PRELOAD"] = ":".join([library] + inherited)

    leak_kinds = [] if opts.no_leaks else opts.leak_kinds
    ours = {"json_path": os.path.join(tmpdir, "mpwrap.%p.json"),
            # made at each process's start, removed with its report: what
            # is left names the processes that ended without one
            "start_path": os.path.join(tmpdir, "mpwrap.%p.start"),
            "exitcode": "0",        # mpcheck computes the gate itself
            "report_at_exit": "1",
            # The library's switch for the leak scan at exit; leak_kinds
            # alone only says which kinds count.
            "detect_leaks": "0" if opts.no_leaks else "1",
            "leak_kinds": ",".join(leak_kinds),
            "show_reachable": "1" if "reachable" in leak_kinds else "0"}
    if opts.flamegraph or opts.html:    # the per-site heap profile
        ours["profile"] = "1"
    if opts.stack_depth is not None:
        ours["stack_depth"] = str(opts.stack_depth)
    if opts.locate is not False:    # a rerun starts it as it was started
        ours["json_environ"] = "1"
    if opts.sample is not None:         # sampled mode, for production
        ours["sample_rate"] = str(opts.sample)
    if opts.check_every is not None:
        ours["leak_check_interval"] = str(opts.check_every)
    # Nothing of the library's on the program's own stdout or stderr: a
    # suite comparing a test's 2>&1 with expected output passes as it does
    # plainly.  The text reports of processes with findings wait here for
    # mpcheck's summary (mpwrap.PID.log; a clean process writes none).
    ours["log_path"] = opts.log_file or os.path.join(tmpdir, "mpwrap.%p.log")
    if not opts.system_leaks:
        # the shell, sed, make, the compiler: run unchecked, each leaving
        # one line (its executable) in mpwrap.PID.sys
        ours["system_passthrough"] = "1"
        ours["passthrough_path"] = os.path.join(tmpdir, "mpwrap.%p.sys")
    # The user's own settings (abort_on_error, say) stay unless mpcheck
    # needs the key.  The library splits pairs at ':' and at white space.
    options = dict(pair.partition("=")[::2] for pair in
                   re.split(r"[:\s]+", env.get("MPWRAP_OPTIONS", "")) if pair)
    options.update(ours)
    # the one-line notice of a clean process is for a person watching a
    # plain LD_PRELOAD run; mpcheck counts clean processes itself
    options.setdefault("verbosity", "0")
    env["MPWRAP_OPTIONS"] = ":".join(f"{k}={v}" for k, v in options.items())
    return env


def become_subreaper() -> bool:
    """Descendants orphaned by their parent are re-parented to mpcheck, not
    to init: it sees those that outlive the program and learns how each
    ended (a SIGKILL leaves no report but a wait status).  Linux only; where
    it fails, mpcheck sees the program's own process only."""
    try:
        import ctypes                   # only here: not on every platform
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (ImportError, OSError, AttributeError):
        return False


def children_of(pid: int) -> List[int]:
    """The pids of pid's children (of all its threads), [] once it is gone."""
    pids: List[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return pids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                pids.extend(int(p) for p in f.read().split())
        except (OSError, ValueError):
            pass
    return pids


def process_status(pid: int) -> Status:
    """(name, state, privilege) of a live or zombie process, from
    /proc/PID/status (a zombie keeps its credentials); privilege is
    'set-user-ID' or 'set-group-ID' when the effective id is not the real
    one: the loader then ignores LD_PRELOAD and libmpwrap.so is silent
    (AT_SECURE).  (None, None, None) once the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8",
                  errors="replace") as f:
            lines = f.read(16384).splitlines()
    except OSError:
        return None, None, None
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    uid = fields.get("Uid", "").split()
    gid = fields.get("Gid", "").split()
    privilege = "set-user-ID" if len(uid) > 1 and uid[0] != uid[1] else \
        "set-group-ID" if len(gid) > 1 and gid[0] != gid[1] else None
    return (fields.get("Name", "").strip() or "?",
            fields.get("State", "?").strip()[:1], privilege)


def command_of(pid: int, name: Optional[str]) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read(4096).rstrip(b"\0").split(b"\0")
    except OSError:
        argv = []
    command = " ".join(a.decode("utf-8", "replace") for a in argv if a)
    return short(command or name or "?")


def without_report_reason(status: int,
                          privilege: Optional[str]) -> Tuple[str, str]:
    """(reason, text) for a process mpcheck reaped that left no report."""
    if status < 0:
        return "killed", f"killed by {signal_name(-status)}"
    if privilege:
        return "privileged", (f"{privilege} program: the loader ignores "
                              "LD_PRELOAD and libmpwrap.so stays silent "
                              "(AT_SECURE)")
    return "exited", (f"exited with status {status} without writing one "
                      "(libmpwrap.so not loaded, or it ended before the "
                      "library could report)")


class Collector:
    """Reads, folds and deletes each process report as soon as it is in
    place (the library renames a complete report into place), while the
    program still runs: neither mpcheck's memory nor its temporary directory
    grows with the length of the suite.  As the subreaper of the run it
    also reaps the descendants orphaned by their parents, and notes each
    that ended without a report."""

    def __init__(self, tmpdir, aggregate, opts, track, relay=None,
                 progress=None):
        self.tmpdir = tmpdir
        self.relay = relay              # the text logs (LogRelay)
        self.progress = progress        # the line on a terminal (Progress)
        # Every look goes through this descriptor: a program that swaps the
        # directory for a link to elsewhere cannot make mpcheck read or
        # delete files there.
        self.dir_fd = os.open(tmpdir, os.O_RDONLY | os.O_DIRECTORY |
                              os.O_NOFOLLOW | os.O_CLOEXEC)
        self.aggregate = aggregate
        self.follow_children = opts.follow_children
        self.wait_descendants = opts.wait_descendants
        self.track = track              # subreaper: watch the descendants
        self.child_pid = None
        self.child_privilege = None
        self.child_reported = False
        self.recent = collections.OrderedDict()  # pids whose report came
        self.reaped = {}                # pid -> (status, name, privilege)
        self.privileged = {}            # pid -> (name, privilege) seen live
        self.unremovable = set()        # ignored names that stay in place
        self.noted = set()              # pids noted as without a report
        self.stop = threading.Event()
        self.failure = None
        self.thread = threading.Thread(target=self.poll, daemon=True)

    def missing(self, pid, reason, message):
        """One note per process, whatever saw it first."""
        if pid not in self.noted:
            self.noted.add(pid)
            self.aggregate.missing(pid, reason, message)

    def poll(self):
        try:
            while not self.stop.wait(POLL_SECONDS):
                self.step()
                if self.progress:
                    self.progress.show(progress_text(self.aggregate))
        except BaseException as e:      # re-raised by finish()
            self.failure = e

    def step(self):
        """Reap, then read the reports: a process renames its report into
        place before it exits, so one reaped now without a report in the
        directory (or read before) has none."""
        if self.track:
            self.reap()
            self.watch()
        self.sweep()
        for pid, (status, name, privilege) in self.reaped.items():
            if pid not in self.recent:
                reason, why = without_report_reason(
                    status, privilege or self.privileged.get(pid, ("", None))[1])
                if reason == "exited" and self.started(pid):
                    reason, why = UNREPORTED, UNREPORTED_WHY
                self.missing(pid, reason, f"no report ({name}): {why}")
            self.privileged.pop(pid, None)
        self.reaped.clear()

    def started(self, pid):
        """The library started in pid: its start marker is here (removed
        when its report is in place)."""
        try:
            os.stat(f"mpwrap.{pid}.start", dir_fd=self.dir_fd,
                    follow_symlinks=False)
            return True
        except OSError:
            return False

    def reap(self):
        """Reap the orphans re-parented to mpcheck, keeping how they ended;
        never the program itself, which run_program waits for."""
        for pid in children_of(os.getpid()):
            if pid == self.child_pid:
                continue
            try:
                if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG |
                             os.WNOWAIT) is None:
                    continue            # still running
                name, _, privilege = process_status(pid)  # still a zombie
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                continue
            self.reaped[pid] = (os.waitstatus_to_exitcode(status), name,
                                privilege)

    def descendants(self):
        """The live descendants of mpcheck, parents first (bounded)."""
        found: List[int]
        found, queue = [], [p for p in children_of(os.getpid())
                            if p != self.child_pid]
        if self.child_pid:
            queue.append(self.child_pid)
        while queue and len(found) < MAX_WATCHED:
            pid = queue.pop(0)
            found.append(pid)
            queue.extend(children_of(pid))
        return found

    def watch(self):
        """Remember the set-user-ID and set-group-ID processes of the run:
        libmpwrap.so is not loaded into them, so they will not report.  A
        look every POLL_SECONDS: one shorter than that goes unseen."""
        for pid in self.descendants():
            if pid not in self.privileged and pid != self.child_pid and \
                    len(self.privileged) < MAX_WATCHED:
                name, _, privilege = process_status(pid)
                if privilege:
                    self.privileged[pid] = (name, privilege)

    def sweep(self):
        for name in os.listdir(self.dir_fd):
            match = REPORT_NAME.fullmatch(name)
            if match and name not in self.unremovable:
                self.take(int(match.group(1)), name)
            match = PASSTHROUGH_NAME.fullmatch(name)
            if match and name not in self.unremovable:
                self.take_passthrough(int(match.group(1)), name)

    def take_passthrough(self, pid, name):
        """A system program that ran unchecked: accounted for, not missing
        (an exec of a checked program under the same pid reports later)."""
        self.child_reported |= pid == self.child_pid
        self.recent[pid] = None
        self.recent.move_to_end(pid)
        if len(self.recent) > RECENT_REPORTS:
            self.recent.popitem(last=False)
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK,
                         dir_fd=self.dir_fd)
            try:
                lines = os.read(fd, 65536).splitlines()
            finally:
                os.close(fd)
            os.unlink(name, dir_fd=self.dir_fd)
        except OSError:
            self.unremovable.add(name)
            return
        if pid == self.child_pid or self.follow_children:
            for line in lines:
                self.aggregate.passed_through(
                    os.path.basename(line.decode("utf-8", "replace")))

    def take(self, pid, name):
        self.child_reported |= pid == self.child_pid
        self.recent[pid] = None
        self.recent.move_to_end(pid)
        if len(self.recent) > RECENT_REPORTS:
            self.recent.popitem(last=False)
        self.privileged.pop(pid, None)  # it did report, after an exec
        data: Any               # the report, or why it was ignored
        try:
            data = parse_report(read_report(self.dir_fd, name))
        except Ignored as e:
            data = e
        except OSError as e:
            data = Ignored(f"cannot read it ({e.strerror})")
        finally:
            try:
                os.unlink(name, dir_fd=self.dir_fd)
            except OSError:
                try:                    # an empty directory planted there
                    os.rmdir(name, dir_fd=self.dir_fd)
                except OSError:
                    self.unremovable.add(name)  # noted once, not each look
        gating = False
        if pid != self.child_pid and not self.follow_children:
            pass
        elif isinstance(data, Ignored):
            self.aggregate.ignored(pid, name, data)
        else:
            gating = self.aggregate.fold(pid, data)
        if self.relay:
            self.relay.after_report(self.dir_fd, pid, gating)

    def finish(self, child_status):
        """After the program: the descendants it left running, the last
        reports, the notes on missing ones."""
        self.stop.set()
        self.thread.join()
        if self.failure:
            raise self.failure
        deadline = time.monotonic() + self.wait_descendants
        self.step()
        while self.track and children_of(os.getpid()) and \
                time.monotonic() < deadline:
            time.sleep(min(POLL_SECONDS, max(0, deadline - time.monotonic())))
            self.step()
        running = set()
        if self.track:
            for pid in self.descendants():
                name, state, privilege = process_status(pid)
                if name is None or state == "Z":
                    continue            # ended meanwhile; its parent reaps it
                running.add(pid)
                privilege = privilege or \
                    self.privileged.get(pid, ("", None))[1]
                self.missing(
                    pid, "still running",
                    f"no report ({command_of(pid, name)}): still running at "
                    f"the end, {self.wait_descendants} s after the program "
                    "exited" + (f"; {privilege} program" if privilege else ""))
        for pid, (name, privilege) in sorted(self.privileged.items()):
            if pid not in running and pid not in self.recent:
                _, why = without_report_reason(0, privilege)
                self.missing(pid, "privileged",
                                       f"no report ({name}): {why}")
        for name in os.listdir(self.dir_fd):
            match = PARTIAL_REPORT_NAME.fullmatch(name)
            pid = int(match.group(1)) if match else None
            if pid is not None and (self.follow_children or
                                    pid == self.child_pid):
                self.child_reported |= pid == self.child_pid
                self.missing(
                    pid, "incomplete",
                    "report incomplete (died while writing it)")
        if self.relay:
            self.relay.collect(self.dir_fd)
        child_started = self.child_pid is not None and \
            self.started(self.child_pid)
        # A start marker with no report: a process that began under the
        # library and never finished a report, though no one here saw it
        # end (killed by SIGKILL and reaped by its own parent, say).
        for name in os.listdir(self.dir_fd):
            match = START_MARKER_NAME.fullmatch(name)
            pid = int(match.group(1)) if match else None
            if pid is None or pid == self.child_pid or pid in running or \
                    not self.follow_children:
                continue
            self.missing(pid, "ended without one",
                         f"no report (pid {pid}): it started under the "
                         "library but ended without writing one (killed, "
                         "e.g. by SIGKILL, or it crashed before its exit)")
        os.close(self.dir_fd)
        if not self.child_reported:
            if child_status < 0:
                reason, why = "killed", \
                    f"killed by {signal_name(-child_status)}"
            elif self.child_privilege:
                reason, why = without_report_reason(0, self.child_privilege)
            elif child_started:
                reason, why = UNREPORTED, UNREPORTED_WHY
            else:
                reason, why = "exited", (
                    "it ended in _exit() outside the library, or "
                    "libmpwrap.so was not loaded")
            self.missing(self.child_pid, reason,
                                   f"no report from the program ({why})")


def from_terminal() -> bool:
    """mpcheck is in the foreground process group of its terminal, where
    a ^C is delivered to every member."""
    for fd in (0, 1, 2):
        try:
            return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue
    return False


def run_program(command: List[str], executable: str, env: Dict[str, str],
                collector: Collector) -> int:
    """Run with stdin, stdout and stderr inherited while the collector folds
    the reports; return the wait status."""
    try:
        child = subprocess.Popen(command, executable=executable, env=env)
    except OSError as e:
        raise InputError(f"{command[0]}: {e.strerror}")
    collector.child_pid = child.pid

    def forward(signum, _frame):
        child.send_signal(signum)

    def forward_int(signum, _frame):
        # A terminal's ^C reaches the whole foreground process group, the
        # child with it: sent again it would be a second ^C.  A SIGINT
        # sent to mpcheck alone (kill -INT, a CI runner) is passed on.
        if not from_terminal():
            child.send_signal(signum)

    # mpcheck must outlive the child to collect the reports.  SIGTERM,
    # SIGHUP and SIGINT sent to mpcheck alone (a CI timeout, a service
    # stopped by its supervisor) are passed on so the child writes its
    # report (libmpwrap.so reports at SIGTERM, SIGINT, SIGHUP and SIGQUIT)
    # and dies of the signal; mpcheck then writes the verdict.  SIGQUIT is
    # ignored, like system(3) does.  Installed after Popen so the child
    # does not inherit them.
    saved = {signal.SIGQUIT: signal.signal(signal.SIGQUIT, signal.SIG_IGN),
             signal.SIGINT: signal.signal(signal.SIGINT, forward_int)}
    saved.update({sig: signal.signal(sig, forward)
                  for sig in (signal.SIGTERM, signal.SIGHUP)})
    collector.thread.start()
    try:
        # Ended but not reaped: a zombie still shows its credentials, so a
        # set-user-ID program is told from one that merely did not report.
        with contextlib.suppress(OSError):
            os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
            collector.child_privilege = process_status(child.pid)[2]
        status = child.wait()
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    collector.finish(status)
    return status
