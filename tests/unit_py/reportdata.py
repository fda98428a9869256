"""Helpers of the unit tests: process reports shaped as the library writes
them (the fields mpcheck reads) and an Aggregate over them."""

from mpcheck import cli, findings, suppress


def frame(function, module="/home/u/proj/app", file="src/app.c", line=10,
          pc="0x401000"):
    return {"pc": pc, "function": function, "file": file, "line": line,
            "module": module, "offset": "0x1000"}


def libc(function):
    return frame(function, "/usr/lib/x86_64-linux-gnu/libc.so.6",
                 None, None)


def leak(kind, nbytes, *stack):
    return {"kind": kind, "bytes": nbytes, "blocks": 1, "stack": list(stack)}


def error(kind, *stack, count=0):
    return {"kind": kind, "address": "0x1000", "description": kind,
            "block_size": 8, "offset": 8, "count": count,
            "stack": list(stack), "alloc_stack": [frame("make", line=3)],
            "free_stack": []}


def report(pid, leaks=(), errors=(), command="./app"):
    return {"version": 1, "tool": "mpwrap", "pid": pid, "command": command,
            "argv": command.split(), "leaks": list(leaks),
            "errors": list(errors)}


def aggregate(argv=(), suppressions=(), baseline=()):
    opts = cli.parse_args(list(argv) + ["./app"])
    return findings.Aggregate(
        opts, suppress.parse_rules(list(suppressions), "s.supp"),
        suppress.parse_rules(list(baseline), "b.txt"), None)
