"""mpcheck.main - mpcheck from start to end: prepare (arguments, inputs,
rules), check (run, collect, locate, print, write the outputs), and main,
which turns every failure into one line and status 125."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from typing import Any, Dict, List, Optional, Tuple

from .common import EXIT_OWN, InputError, UsageError
from .cli import Options, parse_args
from .inputs import (
    check_output_path, find_library, is_static_elf, resolve_program,
    write_atomic)
from .suppress import DEFAULT_SUPPRESSIONS, Rule, load_suppressions
from .baseline import baseline_entries, baseline_text, load_baselines
from .findings import Aggregate
from .text import (
    LogRelay, make_progress, print_generated_suppressions, print_summary,
    program_verdict)
from .run import Collector, become_subreaper, build_env, run_program
from .locate import locate_all, stdin_of_run
from .json_out import write_json
from .htmldata import HtmlData
from .html import check_assets, write_html
from .sarif import write_sarif

# what prepare hands to check: the options, the program, the library and
# the suppression and baseline rules
Prepared = Tuple[Options, str, str, List[Rule], List[Rule]]


# The text reports of processes with gating findings relayed to stderr:
# the first RELAY_LOGS, each up to text.RELAY_BYTES.
RELAY_LOGS = 3


def write_outputs(opts: Options, aggregate: Aggregate,
                  spool_path: str, summary: Dict[str, Any],
                  program_status: int, executable: str,
                  html_spool: str = "") -> List[str]:
    """Write the requested files; return the error lines of any that failed."""
    outputs = []
    if opts.json:
        outputs.append(("--json", opts.json, lambda f: write_json(
            f, aggregate, spool_path, summary)))
    if opts.sarif:
        outputs.append(("--sarif", opts.sarif, lambda f: write_sarif(
            f, aggregate, opts, program_status, executable)))
    if opts.baseline_out:
        outputs.append(("--baseline-out", opts.baseline_out, lambda f: f.write(
            baseline_text(aggregate, opts.command))))
    if opts.flamegraph:
        outputs.append(("--flamegraph", opts.flamegraph, lambda f: f.write(
            "".join(f"{stack} {value}\n" for stack, value in
                    sorted(aggregate.flame.items()) if value))))
    if opts.html:
        outputs.append(("--html", opts.html, lambda f: write_html(
            f, aggregate.listed(), aggregate.html, html_spool, summary,
            opts.command)))
    failures = []
    for option, path, write in outputs:
        try:
            write_atomic(path, write, option)
        except OSError as e:
            failures.append(f"mpcheck: cannot write '{path}': {e.strerror}")
    return failures


def prepare(argv: List[str]) -> Prepared:
    """Everything that can be wrong is found here, before the program runs."""
    opts = parse_args(argv)
    if opts.print_default_suppressions:
        sys.stdout.write(DEFAULT_SUPPRESSIONS)
        sys.exit(0)
    if not opts.command:
        raise UsageError("no program given")
    executable = resolve_program(opts.command[0])
    if is_static_elf(executable):
        raise InputError(f"{opts.command[0]} is statically linked; "
                         "LD_PRELOAD cannot apply")
    library = find_library()
    if opts.source_root and not os.path.isdir(opts.source_root):
        raise InputError(f"--source-root: '{opts.source_root}' is not a "
                         "directory")
    suppressions = load_suppressions(opts)
    baseline = load_baselines(opts)
    for option, path in (("--log-file", opts.log_file), ("--json", opts.json),
                         ("--sarif", opts.sarif),
                         ("--baseline-out", opts.baseline_out),
                         ("--flamegraph", opts.flamegraph),
                         ("--html", opts.html)):
        if path:
            check_output_path(option, path)
    if opts.html:
        check_assets()
    return opts, executable, library, suppressions, baseline


def check(opts: Options, executable: str, library: str,
          suppressions: List[Rule], baseline: List[Rule], tmpdir: str) -> int:
    """Run the program and write the outputs; returns the exit status."""
    if re.search(r"[:\s]", tmpdir):
        raise InputError(f"temporary directory '{tmpdir}' contains ':'"
                         " or whitespace; set TMPDIR elsewhere")
    reports = os.path.join(tmpdir, "reports")
    os.mkdir(reports)
    spool_path = os.path.join(tmpdir, "processes.jsonl")
    html_spool = os.path.join(tmpdir, "html.jsonl")
    with open(spool_path, "w", encoding="utf-8") as spool, \
            open(html_spool, "w", encoding="utf-8") as hspool:
        aggregate = Aggregate(opts, suppressions, baseline,
                              spool if opts.json else None)
        if opts.html:
            aggregate.html = HtmlData(hspool)
        # before the program starts, so every orphan of the run is ours
        track = opts.follow_children and become_subreaper()
        # the library's text reports: in the reports directory unless
        # --log-file puts them elsewhere
        relay = None if opts.log_file else \
            LogRelay(0 if opts.quiet else RELAY_LOGS)
        progress = make_progress(opts)
        collector = Collector(reports, aggregate, opts, track, relay,
                              progress)
        stdin = stdin_of_run()
        try:
            status = run_program(opts.command, executable,
                                 build_env(opts, library, reports), collector)
            program_status = status if status >= 0 else 128 - status
            if opts.locate is not False:
                locate_all(opts, aggregate, library, tmpdir,
                           collector.child_pid, stdin, progress)
        finally:
            if progress:
                progress.erase()
        summary = aggregate.summary(program_status, program_verdict(status))
        spool.flush()           # write_json reads it back
        hspool.flush()
        failures = write_outputs(opts, aggregate, spool_path, summary,
                                 program_status, executable, html_spool)
    if opts.gen_suppressions:
        print_generated_suppressions(aggregate)
    print_summary(aggregate, summary, opts, relay)
    if opts.baseline_out and not failures:
        print(f"mpcheck: wrote {baseline_entries(aggregate)} entries to "
              f"{opts.baseline_out}", file=sys.stderr)
    for line in failures:
        print(line, file=sys.stderr)
    if failures:
        return EXIT_OWN
    if summary["gate"] == "FAIL":
        return opts.exitcode
    return program_status


# tmpfs: every checked process of a suite makes its start marker, writes and
# renames its report and unlinks the marker there; on ext4 each file made
# costs 0.35 ms (median, loaded 2-core machine), on tmpfs 6 us
FAST_TMPDIR = "/dev/shm"
FAST_TMPDIR_MIN_FREE = 256 << 20


def reports_parent() -> Optional[str]:
    """Where mpcheck's temporary directory goes: TMPDIR when the user set
    one, else /dev/shm when it is a writable tmpfs with room (mpcheck reads
    and deletes each report as it comes), else the system's default."""
    if os.environ.get("TMPDIR"):
        return None
    try:
        st = os.statvfs(FAST_TMPDIR)
        if os.access(FAST_TMPDIR, os.W_OK | os.X_OK) and \
                st.f_bavail * st.f_frsize >= FAST_TMPDIR_MIN_FREE:
            return FAST_TMPDIR
    except OSError:
        pass
    return None


def main(argv: List[str]) -> int:
    try:
        prepared = prepare(argv)
        tmpdir = tempfile.mkdtemp(prefix="mpcheck.", dir=reports_parent())
        try:
            return check(*prepared, tmpdir)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
    except UsageError as e:
        print(f"mpcheck: {e}\nTry 'mpcheck --help'.", file=sys.stderr)
    except InputError as e:
        print(f"mpcheck: {e}", file=sys.stderr)
    except Exception as e:      # one line, never a traceback, own status
        print(f"mpcheck: internal error: {type(e).__name__}: {e}",
              file=sys.stderr)
    return EXIT_OWN
