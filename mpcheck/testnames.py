"""mpcheck.testnames - the test a process belongs to when the library found
no name at start (MPWRAP_TEST_NAME, PYTEST_CURRENT_TEST, automake's
test-driver), from the ancestors its report records and the runner's own
list of tests: CTest (`ctest --show-only=json-v1`), meson test (`meson
introspect --tests`) and prove (the test script's path).

The library only walks its ancestors at start (pid, argv, cwd, nearest
first, up to the first one that runs tests); reading the runner's list and
matching commands costs a subprocess per runner invocation, which is done
here, once per (runner, directory), never in the checked processes.  A
process is the test's when it, or its nearest ancestor, is the runner's
direct child: children and grandchildren of a test are that test's.  See
docs/mpcheck.md, "Which test"."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .common import Report

# Programs that run a script named in their arguments: a test run through
# one of them (a shebang, `perl t/x.t`) is named by the script, and its
# command line matched without them.
INTERPRETERS = ("sh", "bash", "dash", "zsh", "ksh", "perl", "python",
                "python3", "ruby", "node", "env", "tclsh", "lua")
# How long a runner's introspection may take, in seconds.
LIST_TIMEOUT = 60
# A process with more ancestors than this recorded is not believed (the
# library records at most 8).
MAX_CHAIN = 16

Link = Tuple[List[str], Optional[str]]          # argv, cwd


def _strings(value: Any) -> Optional[List[str]]:
    if isinstance(value, list) and value and \
            all(isinstance(v, str) for v in value):
        return value
    return None


def chain_of(data: Report) -> List[Link]:
    """The process then its recorded ancestors, nearest first, as (argv,
    cwd); an ancestor whose argv is unknown ends the chain."""
    own = _strings(data.get("argv"))
    cwd = data.get("cwd")
    chain: List[Link] = [(own or [], cwd if isinstance(cwd, str) else None)]
    ancestors = data.get("ancestors")
    for an in ancestors[:MAX_CHAIN] if isinstance(ancestors, list) else ():
        argv = _strings(an.get("argv")) if isinstance(an, dict) else None
        if argv is None:
            break
        cwd = an.get("cwd")
        chain.append((argv, cwd if isinstance(cwd, str) else None))
    return chain


def _base(arg: str) -> str:
    return os.path.basename(arg)


def _is_interpreter(arg: str) -> bool:
    base = _base(arg)
    return base in INTERPRETERS or (base.startswith("python") and
                                    base[6:].replace(".", "").isdigit())


def runner_of(argv: Sequence[str]) -> Optional[str]:
    """'ctest', 'meson', 'prove' or 'mpcheck' when argv runs tests (the
    program, or the script its interpreter runs), else None."""
    for arg in argv[:2]:
        base = _base(arg)
        if base == "ctest":
            return "ctest"
        if base in ("meson", "meson.py"):
            return "meson" if "test" in argv else None
        if base in ("prove", "mpcheck"):
            return base
        if not _is_interpreter(arg):
            return None
    return None


def script_of(argv: Sequence[str]) -> Optional[str]:
    """The test script a prove child runs: argv[0], or under an interpreter
    its first argument that is not an option (`perl -w t/x.t`)."""
    if not argv:
        return None
    if not _is_interpreter(argv[0]):
        return argv[0]
    for arg in argv[1:]:
        if not arg.startswith("-"):
            return arg
    return None


def _same_program(a: str, b: str, a_dir: Optional[str],
                  b_dir: Optional[str]) -> bool:
    """One program named two ways: the same path once made absolute (no
    symbolic link followed: json-c's 28 tests/*.test are links to one
    script, told apart only by their names), or the same base name when one
    was found on PATH."""
    if _base(a) != _base(b):
        return False
    if not os.path.isabs(a) and "/" not in a or \
            not os.path.isabs(b) and "/" not in b:
        return True
    return os.path.normpath(os.path.join(a_dir or "/", a)) == \
        os.path.normpath(os.path.join(b_dir or "/", b))


def matches(argv: Sequence[str], cwd: Optional[str], command: Sequence[str],
            command_dir: Optional[str]) -> bool:
    """The process ran this test's command: the command is argv, or argv's
    end (after an interpreter the kernel put in front for a shebang, or a
    wrapper such as meson's --wrapper), its program compared as a path."""
    n = len(command)
    if not n or len(argv) < n:
        return False
    tail = argv[len(argv) - n:]
    return list(tail[1:]) == list(command[1:]) and \
        _same_program(tail[0], command[0], cwd, command_dir)


def _option(argv: Sequence[str], names: Sequence[str]) -> Optional[str]:
    """The value of the last `--name VALUE` / `--name=VALUE` in argv."""
    value = None
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                value = argv[i + 1]
            elif name.startswith("--") and arg.startswith(name + "="):
                value = arg[len(name) + 1:]
    return value


Test = Tuple[str, List[str], Optional[str]]     # name, command, directory
# ctest's options that choose the configuration and the tests run.
CTEST_SELECT = (("-C", "--build-config"), ("-R", "--tests-regex"),
                ("-E", "--exclude-regex"), ("-L", "--label-regex"),
                ("-LE", "--label-exclude"), ("-I", "--tests-information"))


def _run(command: List[str], cwd: str) -> Any:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "MPWRAP_OPTIONS")}
    out = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         capture_output=True, timeout=LIST_TIMEOUT,
                         check=True)
    return json.loads(out.stdout)


def _build_dir(cwd: str, option: Optional[str], mark: str) -> str:
    """The build directory a runner ran in: the one its option names,
    relative to where it started, or its cwd (ctest and meson change into
    the directory they are given, and the library saw them after that)."""
    for where in ([os.path.join(cwd, option)] if option else []) + [cwd]:
        if os.path.exists(os.path.join(where, mark)):
            return where
    return cwd


def ctest_list(argv: Sequence[str], cwd: str) -> List[Test]:
    """The tests a ctest run in cwd with these arguments knows, with their
    commands and working directories (`ctest --show-only=json-v1`)."""
    where = _build_dir(cwd, _option(argv, ("--test-dir",)),
                       "CTestTestfile.cmake")
    program = argv[0] if _base(argv[0]) == "ctest" else "ctest"
    command = [program, "--show-only=json-v1"]
    # the configuration and the selection of that run: the list is then
    # the tests it ran, which the summary counts
    for names in CTEST_SELECT:
        value = _option(argv, names)
        if value is not None:
            command += [names[0], value]
    tests: List[Test] = []
    for test in _run(command, where).get("tests", []):
        props = {p.get("name"): p.get("value")
                 for p in test.get("properties") or [] if isinstance(p, dict)}
        workdir = props.get("WORKING_DIRECTORY")
        tests.append((str(test.get("name")), _strings(test.get("command"))
                      or [], workdir if isinstance(workdir, str) else None))
    return tests


def meson_list(argv: Sequence[str], cwd: str) -> List[Test]:
    """The tests of the build directory a `meson test` ran in (-C DIR or
    its cwd), from `meson introspect --tests`."""
    at = next(i for i, a in enumerate(argv[:2])
              if _base(a) in ("meson", "meson.py"))
    where = _build_dir(cwd, _option(argv, ("-C",)), "meson-info")
    tests: List[Test] = []
    for test in _run(list(argv[:at + 1]) + ["introspect", "--tests", "."],
                     where):
        workdir = test.get("workdir")
        tests.append((str(test.get("name")), _strings(test.get("cmd")) or [],
                      workdir if isinstance(workdir, str) else where))
    return tests


class TestNames:
    """Names tests from process chains, reading each runner's list once."""

    def __init__(self) -> None:
        self.lists: Dict[Tuple[str, str, Tuple[str, ...]],
                         Optional[List[Test]]] = {}
        self.problems: List[str] = []       # one line per list not read
        self.listed: List[str] = []         # names of the lists read since
        # the caller last took them: the tests a runner ran, counted even
        # when a test's process left no report (an unchecked script)

    def tests(self, runner: str, argv: List[str], cwd: str
              ) -> Optional[List[Test]]:
        key = (runner, cwd, tuple(argv))
        if key not in self.lists:
            reader = ctest_list if runner == "ctest" else meson_list
            try:
                self.lists[key] = reader(argv, cwd)
                self.listed += [t[0] for t in self.lists[key] or ()]
            except (OSError, ValueError, AttributeError, TypeError,
                    StopIteration, subprocess.SubprocessError) as e:
                self.lists[key] = None
                why = getattr(e, "stderr", None) or str(e) or type(e).__name__
                if isinstance(why, bytes):
                    why = why.decode(errors="replace")
                self.problems.append(
                    f"no test names from {runner} in {cwd}: its list of "
                    f"tests could not be read ({why.strip()[:200]})")
        return self.lists[key]

    def name(self, data: Report) -> Optional[Tuple[str, str]]:
        """(test name, runner) for a process report, or None."""
        chain = chain_of(data)
        for i in range(1, len(chain)):
            runner = runner_of(chain[i][0])
            if runner is None:
                continue
            if runner == "mpcheck":
                return None
            argv, cwd = chain[i - 1]
            if runner == "prove":
                script = script_of(argv)
                return (script, "prove") if script else None
            rargv, rcwd = chain[i]
            if not argv or rcwd is None:
                return None
            tests = self.tests(runner, rargv, rcwd)
            found = [t for t in tests or ()
                     if matches(argv, cwd, t[1], t[2])]
            if len(found) > 1 and cwd is not None:
                # the same command in two tests: the working directory
                here = [t for t in found
                        if t[2] and os.path.normpath(t[2]) ==
                        os.path.normpath(cwd)]
                found = here or found
            names = sorted({t[0] for t in found})
            return (names[0], runner) if len(names) == 1 else None
        return None
