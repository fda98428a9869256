"""mpcheck.common - what every layer of mpcheck shares: its version, exit
statuses, the error and leak kinds the library reports, the two exceptions
that end a run with one line, and three small formatters."""

from __future__ import annotations

import json
import signal
from typing import Any, Dict, List

# The shapes passed between the modules, as JSON gives them: one frame of a
# stack, a stack, a finding (one error or leak group, as raw_findings and
# Aggregate make it) and a process report.
Frame = Dict[str, Any]
Stack = List[Frame]
Finding = Dict[str, Any]
Report = Dict[str, Any]


VERSION = "0.1.0"
# mpcheck's own failures (usage, bad input, an output it could not write,
# an internal error).  Chosen so no program it wraps is read as mpcheck:
# make exits 2, sh 126/127/128+N, ctest 8; 125 is what env(1), timeout(1)
# and `docker run` use for their own failures.
EXIT_OWN = 125
DEFAULT_GATE_STATUS = 23
ERROR_KINDS = ("heap-buffer-overflow", "heap-buffer-underflow", "double-free",
               "invalid-free", "use-after-free", "alloc-dealloc-mismatch",
               "new-delete-type-mismatch", "invalid-alignment",
               "allocation-size-too-big", "calloc-overflow",
               "realloc-size-zero", "alloc-size-zero", "fishy-value")
LEAK_KINDS = ("definite", "indirect", "possible", "reachable")
DEFAULT_LEAK_KINDS = ("definite", "indirect")
# LeakSanitizer's syntax: one "leak" prefix covers every leak kind.
SUPPRESSION_KINDS = ("leak",) + ERROR_KINDS
# The error kinds found late (guard or poison bytes changed) that a rerun
# with a guard page at the block's allocation site can catch at the access.
LOCATABLE_KINDS = ("heap-buffer-overflow", "heap-buffer-underflow",
                   "use-after-free")


class UsageError(Exception):
    """Bad command line: reported with a pointer to --help."""


class InputError(Exception):
    """Bad program, library, file or path: reported as a single line."""


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:              # real-time signals have no name
        return f"signal {number}"


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def one_line(value: str) -> str:
    """value with its control characters escaped (\\n, \\x1b...): a
    program or function name must not end a comment line, nor start a
    live suppression entry or an escape sequence on the terminal."""
    return "".join(c if c.isprintable() or c == " " else
                   repr(c)[1:-1] for c in value)


def short(command: str, limit: int = 100) -> str:
    command = one_line(command)  # a newline would forge a line of ours
    return command if len(command) <= limit else command[:limit - 3] + "..."


# A process that exited (not killed) after the library had started in it,
# without a report: the library could not write it (no descriptor left, a
# directory it may no longer write after dropping privileges...).  Its
# findings are unknown: the gate fails, whatever --strict-reports says.
UNREPORTED = "report not written"
UNREPORTED_WHY = ("libmpwrap.so started in it but could not write its "
                  "report, so its findings are unknown; the library's "
                  "notice on stderr says why, e.g. no descriptor left or "
                  "a directory it may not write after dropping privileges")
