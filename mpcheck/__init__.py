"""mpcheck - the CI leak gate for libmpwrap.so, as a package.

Runs a program with libmpwrap.so preloaded, collects the JSON report that
every process of the run writes at exit, applies suppressions and a
baseline, prints a summary and exits with the program's own status, or with
the gate status when an unsuppressed finding remains.  See mpcheck(1) and
docs/mpcheck.md.  Standard library only: CI runners need nothing but python3.

The command is scripts/mpcheck (installed as $PREFIX/bin/mpcheck, with this
package in $PREFIX/lib/mpwrap/python), which calls mpcheck.main.main.

Modules, lowest first; a module imports only the ones listed before it
(tests/unit_py/test_layers.py checks it with ast):

    common    version, exit statuses, kinds, UsageError/InputError
    frames    one stack frame: names, runtime or user code, description
    flame     folded stacks (flame graphs) from a report's heap profile
    htmldata  --html: each process's entry for the page, frames, source
    cli       options, defaults, --help, parse_args
    inputs    program and library lookup, output paths, write_atomic
    suppress  rules files, the wildcard matcher, default suppressions
    baseline  --write-baseline text, --baseline files
    reports   one report file of a hostile directory, parsed and checked
    testnames test names from the recorded ancestors and the runner's list
    findings  keys, fingerprints, grouping (Aggregate)
    text      log relay, progress line, summary printing
    run       environment, subreaper, process tree, Collector, run_program
    locate    --locate: rerun a process with a guard page at the site
    json_out  the --json report
    html      the --html report: one self-contained page
    sarif     the --sarif log
    main      prepare, check, main
"""

# the import order above, for tests/unit_py/test_layers.py
LAYERS = ("common", "frames", "flame", "htmldata", "cli", "inputs", "suppress", "baseline",
          "reports", "testnames", "findings", "text", "run", "locate", "json_out", "html", "sarif",
          "main")
