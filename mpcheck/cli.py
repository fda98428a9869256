"""mpcheck.cli - the command line: the options with their defaults and
checks, the --help text and parse_args, which turns argv into an Options or
raises UsageError.  Nothing here touches the file system beyond the
value checks."""

from __future__ import annotations

import os
import re
import sys
from typing import List

from .common import (
    DEFAULT_GATE_STATUS, DEFAULT_LEAK_KINDS, LEAK_KINDS, VERSION,
    UsageError)
from .flame import MEASURES


# Option defaults: leak groups listed per process (--max-groups), gating
# findings printed with their stacks (--stacks), seconds a --locate rerun
# may take before it is killed (--locate-timeout).
DEFAULT_MAX_GROUPS = 10
DEFAULT_STACKS = 10
DEFAULT_LOCATE_TIMEOUT = 30
# All reruns of a run together (--locate-budget): locating by default must
# not make a failing CI job much slower.
DEFAULT_LOCATE_BUDGET = 60
# How long mpcheck waits, once the program has exited, for the descendants
# still running (a daemon that double-forked, a test's server) to end and
# report: long enough for a server shutting down with its parent, short
# enough that a daemon that never ends costs little.
DEFAULT_WAIT_DESCENDANTS = 2
HELP = """\
usage: mpcheck [options] [--] program [args...]

Run PROGRAM with libmpwrap.so preloaded and fail when it (or any process it
starts) has a memory error or leak that is not suppressed.

options:
  -h, --help             show this help and exit
  --version              print the version and exit
  --log-file PATH        write the library's text report to PATH (%p = pid)
  --json PATH            write the aggregated JSON report to PATH
  --sarif PATH           write a SARIF 2.1.0 report to PATH
  --flamegraph FILE      write the run's heap profile as folded stacks
                         (flamegraph.pl, inferno, speedscope); turns on the
                         library's profile=1
  --flamegraph-of M      what the flame graph adds up: peak (default), leaked,
                         allocated, temporary, live, allocations, temporaries
  --html FILE            write one self-contained HTML report (verdict,
                         findings with source, flame graph, sites, heap over
                         time); turns on the library's profile=1
  --suppressions FILE    do not gate on findings matching FILE (repeatable)
  --gen-suppressions     print a suppression entry for every new finding
  --leak-kinds LIST      leak kinds that gate: definite,indirect,possible,
                         reachable or all (default: definite,indirect)
  --stack-depth N        frames recorded per stack, 0..64
  --check-every SECONDS  run a leak check in every process each SECONDS
                         (1..31536000) while it runs (leak_check_interval):
                         a report for long-running commands before they end
  --no-leaks             do not check for leaks; only errors gate
  --sample N             sampled mode (the library's sample_rate=N,
                         1..1000000000): glibc serves all allocations but
                         one in N on average, which gets a guarded slot;
                         errors and leaks on those gate (leaks with their
                         estimate, ~bytes x N); no --locate reruns
  --follow-children      report every descendant process (default)
  --no-follow-children   report only the program's own process
  --wait-descendants N   after the program exits, wait up to N seconds
                         (0..86400, default 2) for descendants still
                         running; those left are noted as without a report
  --strict-reports       fail the gate when a process has no report
                         (killed, set-user-ID, still running) or a report
                         is ignored as unreadable
  -q, --quiet            no library report on stderr, only the summary line
  --system-leaks         also check the system programs a suite runs (sh, sed,
                         make, cc...: executables in /usr/bin, /bin, /usr/lib,
                         /usr/libexec...; interpreters are always checked),
                         and gate on leaks whose every frame is in /usr/bin,
                         /usr/lib, /lib...; by default such programs run
                         unchecked and such leaks are reported, not gating
  --exitcode N           exit status when the gate fails, 1..255 (default 23)
  --baseline FILE        accept findings matching FILE as known (repeatable)
  --baseline-out FILE    write every current finding to FILE as a baseline;
                         the gate is skipped, the exit status is the program's
  --locate               rerun once each process with a heap overflow,
                         underflow or use after free found late, with guard
                         pages at the damaged blocks' allocation sites, and
                         add the bad access's stack to the finding (the
                         default does so when the process can be rerun
                         deterministically; --locate also reruns the program
                         whose stdin was a pipe, with /dev/null)
  --no-locate            never rerun a process
  --locate-timeout N     seconds one rerun may take (1..86400, default 30)
                         before it is killed
  --locate-budget N      seconds all reruns of the run may take together
                         (1..86400, default 60)
  --stacks N             gating findings printed with their stacks in the
                         summary (0..10000, default 10; the rest are counted)
  --no-progress          no progress line on a terminal
  --source-root DIR      SARIF URIs relative to DIR (default: git's top level
                         of the program's sources, else of the current
                         directory, else the current directory)
  --max-groups N         errors and leak groups kept per process in --json
                         (largest leaks first, the rest counted; default 10,
                         0 keeps all)
  --no-default-suppressions
                         also gate on what the C library keeps for itself
                         (stdio buffers, locale and time zone data)
  --print-default-suppressions
                         print the default suppressions and exit

Exit status: the program's own (128+N when killed by signal N) when the gate
passes, the --exitcode status when it fails, 125 for mpcheck's own errors
(usage, bad input, an output it cannot write).
"""


class Options:
    def __init__(self):
        self.log_file = None
        self.json = None
        self.sarif = None
        self.suppressions = []
        self.baselines = []
        self.baseline_out = None
        self.gen_suppressions = False
        self.leak_kinds = list(DEFAULT_LEAK_KINDS)
        self.stack_depth = None
        self.check_every = None
        self.no_leaks = False
        self.sample = None              # --sample N: sample_rate=N
        self.follow_children = True
        self.wait_descendants = DEFAULT_WAIT_DESCENDANTS
        self.strict_reports = False
        self.quiet = False
        self.system_leaks = False
        self.exitcode = DEFAULT_GATE_STATUS
        self.max_groups = DEFAULT_MAX_GROUPS
        self.locate = None              # None: when it can rerun (auto)
        self.locate_timeout = DEFAULT_LOCATE_TIMEOUT
        self.locate_budget = DEFAULT_LOCATE_BUDGET
        self.stacks = DEFAULT_STACKS
        self.progress = True
        self.source_root = None
        self.flamegraph = None          # --flamegraph FILE
        self.flamegraph_of = "peak"
        self.html = None                # --html FILE
        self.no_default_suppressions = False
        self.print_default_suppressions = False
        self.command = []


def _path(option, value):
    if not value:
        raise UsageError(f"{option}: empty path")
    return value


def _library_path(option, value):
    # The library receives this through MPWRAP_OPTIONS, which cannot quote
    # ':' (the pair separator) or whitespace; the program may chdir, so the
    # path must be absolute.
    path = os.path.abspath(_path(option, value))
    if re.search(r"[:\s]", path):
        raise UsageError(f"{option}: path '{path}' contains ':' or whitespace,"
                         " which MPWRAP_OPTIONS cannot carry")
    return path


def _integer(option, value, low, high):
    if not re.fullmatch(r"[0-9]+", value) or not low <= int(value) <= high:
        raise UsageError(
            f"{option}: expected an integer {low}..{high}, got '{value}'")
    return int(value)


def _choice(option, value, choices):
    if value not in choices:
        raise UsageError(f"{option}: expected one of {', '.join(choices)}, "
                         f"got '{value}'")
    return value


def _leak_kinds(option, value):
    if value.strip() == "all":          # as the library's own option allows
        return list(LEAK_KINDS)
    kinds = []
    for kind in (k.strip() for k in value.split(",")):
        if kind not in LEAK_KINDS:
            raise UsageError(f"{option}: unknown leak kind '{kind}' "
                             f"(choose from {', '.join(LEAK_KINDS)})")
        if kind not in kinds:
            kinds.append(kind)
    return kinds


FLAG_OPTIONS = {
    "--gen-suppressions": ("gen_suppressions", True),
    "--no-leaks": ("no_leaks", True),
    "--follow-children": ("follow_children", True),
    "--no-follow-children": ("follow_children", False),
    "--strict-reports": ("strict_reports", True),
    "--quiet": ("quiet", True),
    "--system-leaks": ("system_leaks", True),
    "--locate": ("locate", True),
    "--no-locate": ("locate", False),
    "--no-progress": ("progress", False),
    "--no-default-suppressions": ("no_default_suppressions", True),
    "--print-default-suppressions": ("print_default_suppressions", True),
}
VALUE_OPTIONS = {
    "--log-file": ("log_file", _library_path),
    "--json": ("json", _path),
    "--sarif": ("sarif", _path),
    "--suppressions": ("suppressions", _path),
    "--baseline": ("baselines", _path),
    "--baseline-out": ("baseline_out", _path),
    "--flamegraph": ("flamegraph", _path),
    "--html": ("html", _path),
    "--flamegraph-of": ("flamegraph_of", lambda o, v: _choice(o, v, MEASURES)),
    "--leak-kinds": ("leak_kinds", _leak_kinds),
    "--stack-depth": ("stack_depth", lambda o, v: _integer(o, v, 0, 64)),
    "--check-every": ("check_every",
                      lambda o, v: _integer(o, v, 1, 31536000)),
    "--exitcode": ("exitcode", lambda o, v: _integer(o, v, 1, 255)),
    "--sample": ("sample", lambda o, v: _integer(o, v, 1, 1000000000)),
    "--max-groups": ("max_groups", lambda o, v: _integer(o, v, 0, 1000000)),
    "--locate-timeout": ("locate_timeout",
                         lambda o, v: _integer(o, v, 1, 86400)),
    "--locate-budget": ("locate_budget",
                        lambda o, v: _integer(o, v, 1, 86400)),
    "--stacks": ("stacks", lambda o, v: _integer(o, v, 0, 10000)),
    "--source-root": ("source_root", _path),
    "--wait-descendants": ("wait_descendants",
                           lambda o, v: _integer(o, v, 0, 86400)),
}
REPEATABLE = {"suppressions", "baselines"}
SHORT_OPTIONS = {"-h": "--help", "-q": "--quiet"}


def parse_args(argv: List[str]) -> Options:
    """Parse mpcheck's own options; the first non-option starts the program.

    Hand-written rather than argparse so every error is one exact line and
    the program's own options are never mistaken for mpcheck's."""
    opts = Options()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if not arg.startswith("-") or arg == "-":
            break
        name, has_value, value = arg.partition("=")
        if not name.startswith("--"):
            name, has_value = arg, ""
        name = SHORT_OPTIONS.get(name, name)
        if name == "--help":
            sys.stdout.write(HELP)
            sys.exit(0)
        if name == "--version":
            print(f"mpcheck {VERSION}")
            sys.exit(0)
        if name in FLAG_OPTIONS:
            if has_value:
                raise UsageError(f"option '{name}' takes no argument")
            setattr(opts, *FLAG_OPTIONS[name])
        elif name in VALUE_OPTIONS:
            if not has_value:
                i += 1
                if i == len(argv):
                    raise UsageError(f"option '{name}' requires an argument")
                value = argv[i]
            attr, convert = VALUE_OPTIONS[name]
            value = convert(name, value)
            if attr in REPEATABLE:
                getattr(opts, attr).append(value)
            else:
                setattr(opts, attr, value)
        else:
            raise UsageError(f"unrecognized option '{arg}'")
        i += 1
    opts.command = argv[i:]
    if opts.sample is not None and opts.locate is None:
        # a rerun would sample other allocations: the finding's own access
        # stack is what sampled mode reports (at the fault)
        opts.locate = False
    return opts
