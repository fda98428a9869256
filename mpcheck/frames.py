"""mpcheck.frames - reading one stack frame of a report: its names, whether
it is the allocator or the C/C++ runtime, the first frame a user would fix,
and its one-line description."""

from __future__ import annotations

import functools
import os
import re
from typing import List, Optional

from .common import Frame, Stack


# Frames in these objects are the allocator and the C/C++ runtime, never the
# code a user would fix, so they are skipped when deciding where a finding is.
RUNTIME_MODULE = re.compile(
    r"(libmpwrap[^/]*|libc([.-][^/]*)?|libstdc\+\+[^/]*|ld-linux[^/]*)")


def text(frame: Frame, key: str) -> Optional[str]:
    """A frame field as a non-empty string, or None (the library writes null
    for unknown fields; tolerate anything else a broken report holds)."""
    value = frame.get(key)
    return value if isinstance(value, str) and value else None


def frame_names(frame: Frame) -> List[str]:
    return [name for name in (text(frame, "function"), text(frame, "module"),
                              text(frame, "file")) if name]


def is_runtime(frame: Frame) -> bool:
    module = text(frame, "module")
    return bool(module and runtime_module(module))


@functools.lru_cache(maxsize=4096)
def runtime_module(module: str) -> bool:
    # asked for every frame of every finding: a suite has few modules
    return bool(RUNTIME_MODULE.fullmatch(os.path.basename(module)))


def first_user_frame(stack: Stack) -> Optional[Frame]:
    """The innermost frame with a source file outside the runtime."""
    return next((f for f in stack if text(f, "file") and not is_runtime(f)),
                None)


def describe_frame(index: int, frame: Frame) -> str:
    where = text(frame, "file") or "?"
    if isinstance(frame.get("line"), int):
        where += f":{frame['line']}"
    module = text(frame, "module")
    if module:
        where += f" ({module}+{text(frame, 'offset') or '?'})"
    name = text(frame, "function") or text(frame, "pc") or "?"
    return f"#{index} {name} in {where}"
