"""mpbench - the benchmark suite bench/run.py runs (`make bench`), one
module per concern.  A module imports only the ones listed before it
(tests/unit_py/test_layers.py checks it with ast); standard library only.

    knobs      BENCH_* settings, paths, the progress log, the run's state
    fmt        number formats, median, a shell command's output
    peers      the configurations: glibc, mpwrap's option sets, the peer checkers
    workloads  the C benchmarks and the real programs, with their inputs
    runner     one run through launch.c; every workload x configuration;
               the exit-report benchmark; perf profiles
    tables     results.csv and RESULTS.md: ratios, scaling, exit report, targets
    main       the benchmark from start to end
"""

LAYERS = ("knobs", "fmt", "peers", "workloads", "runner", "tables", "main")
