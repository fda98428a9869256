"""mpcheck.baseline - the baseline file: the rules --write-baseline writes
(one per gating finding, with the command that produced it) and reading the
--baseline files back as rules."""

from __future__ import annotations

import os
import shlex
from typing import Any, List

from .common import InputError
from .cli import Options
from .suppress import Rule, load_rules


def baseline_text(aggregate: Any, command: List[str]) -> str:
    """Entries for every finding not already suppressed: the suppression
    files cover those, and the toolchain's findings would otherwise bring
    broad entries such as `leak:main` into the baseline."""
    lines = ["# mpcheck baseline: known findings, accepted by "
             "'mpcheck --baseline FILE'.",
             "# From a run of: " + shlex.join(command).replace("\n", " "),
             "# Delete a line once its finding is fixed."]
    return "\n".join(lines + list(aggregate.entries)) + "\n"


def baseline_entries(aggregate: Any) -> int:
    return sum(not line.startswith("#") for line in aggregate.entries)


def load_baselines(opts: Options) -> List[Rule]:
    for path in opts.baselines:
        if not os.path.exists(path):
            raise InputError(f"baseline file '{path}' does not exist; create"
                             f" it with a first run: --baseline-out {path}")
    return [rule for path in opts.baselines
            for rule in load_rules(path, "baseline")]
