#!/usr/bin/env python3
"""gen_reports.py PROCESSES SHARED UNIQUE - stand in for a whole test suite.

Run under mpcheck, writes PROCESSES process reports where the library would
(json_path in MPWRAP_OPTIONS), each with SHARED leak groups that every
process has (the same code run by every test) and UNIQUE groups of its own:
a suite of a thousand processes in seconds, without running one.  Written
the library's way (a temporary name, then rename), at pids no kernel hands
out so they cannot collide with real ones."""
import json
import os
import re
import sys

FIRST_PID = 10_000_000          # above any pid_max (2^22)


def frame(function, module):
    return {"pc": "0x1000", "function": function, "file": None, "line": None,
            "module": module, "offset": "0x1000"}


def leak(function):
    return {"kind": "definite", "bytes": 16, "blocks": 1,
            "stack": [frame("malloc", "/x/libmpwrap.so"),
                      frame(function, "/x/app"), frame("main", "/x/app")]}


def main(processes, shared, unique):
    options = os.environ["MPWRAP_OPTIONS"]
    path = re.search(r"json_path=([^:]+)", options).group(1)
    # the groups every process shares are serialized once: each report is
    # the bytes json.dump writes for it, in a third of the time
    compact = {"separators": (",", ":")}
    common = json.dumps([leak(f"leak_site_{i}") for i in range(shared)], **compact)[1:-1]
    tail = ',"summary":{"leaks":{},"errors":0},"stats":{}}'
    for n in range(processes):
        pid = FIRST_PID + n
        mine = json.dumps([leak(f"unique_{n}_{j}") for j in range(unique)], **compact)[1:-1]
        head = json.dumps({"version": 1, "pid": pid, "command": f"./test_{n} --case {n}",
                           "errors": []}, **compact)[:-1]
        leaks = ",".join(part for part in (common, mine) if part)
        target = path.replace("%p", str(pid))
        with open(f"{target}.tmp.{pid}", "w", encoding="utf-8") as f:
            f.write(f'{head},"leaks":[{leaks}]{tail}')
        os.rename(f"{target}.tmp.{pid}", target)


if __name__ == "__main__":
    main(*map(int, sys.argv[1:4]))
