"""mpcheck.reports - reading the report directory, which any process of
the run can write to: one report file (regular, bounded, opened without
following links), its JSON parsed with a nesting bound and its shape
checked, and the launch record of a report."""

from __future__ import annotations

import json
import os
import re
import stat
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from .common import Frame, Report
from .inputs import file_kind


# A process report larger than this is not read (a real one, with 1,000
# leak groups of 64 frames, is about 20 MB); nor one nested deeper than
# this (a real one is 5 levels deep; json and the code after it recurse).
MAX_REPORT_BYTES = 256 << 20
MAX_REPORT_DEPTH = 32
REPORT_NAME = re.compile(r"mpwrap\.([0-9]+)\.json")
# What an atomic write leaves behind when its process dies before the rename.
START_MARKER_NAME = re.compile(r"mpwrap\.([0-9]+)\.start")
# a system program run unchecked (system_passthrough): its executable's
# path, one line per image the pid ran unchecked
PASSTHROUGH_NAME = re.compile(r"mpwrap\.([0-9]+)\.sys")
PARTIAL_REPORT_NAME = re.compile(r"\.?mpwrap\.([0-9]+)\.json.+")


def _dicts(value):
    return [v for v in value if isinstance(v, dict)] \
        if isinstance(value, list) else []


class Ignored(Exception):
    """A report file mpcheck will not fold in; the message says why."""


def read_report(dir_fd: int, name: str) -> bytes:
    """The bytes of a report, read without following a link, blocking on a
    FIFO or device, or reading without bound: the directory is writable by
    every process of the run, which may plant anything there."""
    st = os.lstat(name, dir_fd=dir_fd)
    if not stat.S_ISREG(st.st_mode):    # never open a device: opening acts
        raise Ignored(f"{file_kind(st.st_mode)}, not a regular file")
    if st.st_size > MAX_REPORT_BYTES:
        raise Ignored(f"{st.st_size} bytes, more than the "
                      f"{MAX_REPORT_BYTES} read")
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW |
                 os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        now = os.fstat(fd)              # swapped since the lstat?
        if not stat.S_ISREG(now.st_mode) or \
                (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise Ignored("replaced while being opened")
        chunks, size = [], 0
        while size <= MAX_REPORT_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_REPORT_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_REPORT_BYTES:     # it grew after the lstat
            raise Ignored(f"more than the {MAX_REPORT_BYTES} bytes read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string",
            bool: "a boolean", int: "a number", float: "a number",
            type(None): "null"}.get(type(value), type(value).__name__)


JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


def too_deep(raw: bytes) -> bool:
    """True when the document nests more than MAX_REPORT_DEPTH levels,
    found before parsing it, without recursion and at the speed of C: with
    the strings and all but the brackets gone, each pass removes the
    innermost containers, and a container left after MAX_REPORT_DEPTH passes
    is deeper than that.  (Bytes: in UTF-8 no byte of a multibyte character is
    a quote, backslash or bracket.)"""
    brackets = JSON_STRING.sub(b"", raw).translate(None, NOT_BRACKETS)
    for _ in range(MAX_REPORT_DEPTH):
        peeled = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if peeled == brackets:      # nothing left, or unbalanced: the
            return False            # parser names the syntax error
        brackets = peeled
    return b"[]" in brackets or b"{}" in brackets


def check_list(data: Dict[str, Any], key: str, where: str,
               check_item: Callable[[Any, str], None]) -> None:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise Ignored(f"{where}{key} is {type_name(value)}, not a list")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise Ignored(f"{where}{key}[{i}] is {type_name(item)}, "
                          "not an object")
        check_item(item, f"{where}{key}[{i}].")


def check_fields(item: Dict[str, Any], where: str,
                 types: Dict[str, Tuple[type, ...]]) -> None:
    for key, allowed in types.items():
        if key in item and not isinstance(item[key], allowed) or \
                isinstance(item.get(key), bool) and bool not in allowed:
            raise Ignored(f"{where}{key} is {type_name(item[key])}")


def check_frame(frame: Frame, where: str) -> None:
    check_fields(frame, where, {"function": (str, type(None)),
                                "file": (str, type(None)),
                                "module": (str, type(None)),
                                "line": (int, type(None))})


def check_stacks(item: Dict[str, Any], where: str,
                 keys: Sequence[str]) -> None:
    for key in keys:
        check_list(item, key, where, check_frame)


def check_error(error: Dict[str, Any], where: str) -> None:
    check_fields(error, where, {"kind": (str,)})
    check_stacks(error, where, ("stack", "alloc_stack", "free_stack"))


def check_leak(leak: Dict[str, Any], where: str) -> None:
    check_fields(leak, where, {"kind": (str,), "bytes": (int,),
                               "blocks": (int,)})
    check_stacks(leak, where, ("stack",))


def parse_report(raw: bytes) -> Report:
    """A process report from its bytes, or Ignored: the fields mpcheck reads
    must have their types, so a bad one is noted once, not met later."""
    if not raw.strip():
        raise Ignored("empty")
    try:
        text_ = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Ignored(f"not UTF-8 (byte 0x{raw[e.start]:02x} at offset "
                      f"{e.start})") from None
    if too_deep(raw):
        raise Ignored(f"nested deeper than {MAX_REPORT_DEPTH} levels")
    try:
        data = json.loads(text_)
    except RecursionError:
        raise Ignored(f"nested deeper than {MAX_REPORT_DEPTH} levels") \
            from None
    except ValueError as e:
        raise Ignored(f"not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise Ignored(f"{type_name(data)}, not an object")
    if data.get("version") != 1 or isinstance(data.get("version"), bool):
        raise Ignored(f"unsupported version {data.get('version')!r}")
    check_fields(data, "", {"command": (str,)})
    check_list(data, "errors", "", check_error)
    check_list(data, "leaks", "", check_leak)
    return data


def launch_of(data: Report) -> Optional[Dict[str, Any]]:
    """How a process was started, from its report: argv, executable, the
    working directory it started in and (json_environ=1) its environment,
    as bytes (the library writes each byte as one code point); None when
    the report does not say."""
    def as_bytes(value):
        return value.encode("latin-1") if isinstance(value, str) else None
    argv, environ = data.get("argv"), data.get("environ")
    if not isinstance(argv, list) or not argv or \
            not all(isinstance(a, str) for a in argv):
        return None
    try:
        return {"argv": [as_bytes(a) for a in argv],
                "executable": as_bytes(data.get("executable")),
                "cwd": as_bytes(data.get("cwd")),
                "environ": [as_bytes(e) for e in environ]
                if isinstance(environ, list) and
                all(isinstance(e, str) for e in environ) else None}
    except UnicodeEncodeError:      # not the library's: no rerun
        return None
