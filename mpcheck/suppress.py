"""mpcheck.suppress - suppression and baseline rules: reading a rules file
(bounded, from a pipe too), parsing LeakSanitizer-style and Valgrind-style
lines, the linear-time wildcard matcher, the default suppressions, and the
--gen-suppressions text of a finding."""

from __future__ import annotations

import os
import select
import stat
import time
from typing import Iterable, List, Optional, Sequence

from .common import SUPPRESSION_KINDS, Finding, InputError, one_line
from .frames import frame_names, is_runtime, text
from .cli import Options
from .inputs import file_kind


# What the C library allocates for itself and keeps until exit: reachable
# by design, never the program's leak (as memcheck's default.supp).
# Anchored: a user's function that merely contains a name stays reported.
DEFAULT_SUPPRESSIONS = """\
# mpcheck default suppressions (--no-default-suppressions turns them off)
# stdio: the buffer of stdin, stdout or a FILE, allocated on first use
leak:^_IO_file_doallocate$
# locale data loaded by setlocale() and kept for the process
leak:^setlocale$
leak:^_nl_find_locale$
leak:^_nl_load_locale_from_archive$
# time zone data read by localtime(), mktime(), tzset()
leak:^tzset_internal$
# character set conversion modules (iconv_open, wide stdio)
leak:^__gconv_open$
leak:^__gconv_read_conf$
"""


class Wildcard:
    """A LeakSanitizer template matched in linear time: the parts between
    '*'s are found left to right with str.find, each as early as it can be
    (an earlier end only leaves more room for the rest).  A regular
    expression of '.*'s backtracks: '*a*a*a*a*b' against a 400-character
    name took minutes."""

    def __init__(self, parts, anchored, dollar):
        self.parts, self.anchored, self.dollar = parts, anchored, dollar

    def search(self, s):
        parts = list(self.parts)
        pos = 0
        if self.anchored:
            if not s.startswith(parts[0]):
                return False
            pos = len(parts.pop(0))
            if not parts:  # '^foo' or '^foo$'
                return not self.dollar or pos == len(s)
        last = parts.pop() if self.dollar else None
        for part in parts:
            i = s.find(part, pos)
            if i < 0:
                return False
            pos = i + len(part)
        return last is None or (s.endswith(last) and len(s) - len(last) >= pos)


def compile_pattern(pattern: str) -> Optional[Wildcard]:
    """LeakSanitizer template: matches a substring; '*' is any run of
    characters, a leading '^' and a trailing '$' anchor.  Returns None for a
    pattern that matches everything ('', '*'), which then also covers
    findings whose stacks carry no names at all."""
    if not pattern.strip("*"):
        return None
    anchored = pattern.startswith("^")
    body = pattern[1:] if anchored else pattern
    body, dollar, _ = body.partition("$")   # LSan ignores text after '$'
    return Wildcard(body.split("*"), anchored, bool(dollar))


class Rule:
    """One `kind:PATTERN` line of a suppression or baseline file."""

    def __init__(self, kind, pattern, where):
        self.kind = kind
        self.where = where
        self.regex = compile_pattern(pattern)

    def matches(self, finding):
        if self.kind != suppression_kind(finding):
            return False
        if self.regex is None:
            return True
        return any(self.regex.search(name) for frame in finding["stack"]
                   for name in frame_names(frame))


# A suppression or baseline file larger than this is not one (a baseline of
# 10,000 findings is about 1 MB); a pipe (`--suppressions <(...)`) gets this
# long to deliver its text before mpcheck gives up instead of hanging.
MAX_RULES_BYTES = 16 << 20
RULES_PIPE_SECONDS = 5


def printable(text_: str) -> str:
    """Text from a file as one safe line: control characters (an escape
    sequence would drive the user's terminal) shown as \\xNN."""
    return "".join(c if c.isprintable() or c == "\t" else
                   f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
                   for c in text_)


def read_rules_bytes(path: str, label: str) -> bytes:
    """The bytes of a suppression or baseline file: a regular file, or a
    pipe or socket that delivers its text within RULES_PIPE_SECONDS (shell
    process substitution); never a device (/dev/zero never ends, a terminal
    waits for a person), and never more than MAX_RULES_BYTES."""
    def fail(why):
        return InputError(f"cannot read {label} file '{printable(path)}': "
                          f"{why}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise fail(e.strerror) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            raise fail(f"it is {file_kind(mode)}, not a file")
        stream = not stat.S_ISREG(mode)
        deadline = time.monotonic() + RULES_PIPE_SECONDS
        chunks, size = [], 0
        while size <= MAX_RULES_BYTES:
            if stream:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    raise fail(f"nothing more arrived from {file_kind(mode)}"
                               f" within {RULES_PIPE_SECONDS} s")
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            except OSError as e:
                raise fail(e.strerror) from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_RULES_BYTES:
            raise fail(f"more than {MAX_RULES_BYTES >> 20} MiB, not a "
                       f"{label} file")
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_rules(path: str, label: str) -> List[Rule]:
    raw = read_rules_bytes(path, label)
    if b"\0" in raw:
        raise InputError(f"cannot read {label} file '{printable(path)}': it "
                         "holds NUL bytes, not text")
    # utf-8-sig: a byte-order mark that an editor put first is not a line
    text_ = raw.decode("utf-8-sig", errors="replace")
    return parse_rules(text_.splitlines(), path)


def parse_rules(lines: Sequence[str], path: str) -> List[Rule]:
    """The rules of a suppression file's lines; `path` names it in errors
    and in each rule's `where`."""
    rules = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, colon, pattern = line.partition(":")
        where = f"{printable(path)}:{number}"
        if not colon or kind.strip() not in SUPPRESSION_KINDS:
            raise InputError(f"{where}: malformed suppression line "
                             f"'{printable(line)}' (expected leak:PATTERN or "
                             "<error-kind>:PATTERN)")
        # LSan skips a line with an empty template; here it would match
        # every finding, so a stray `leak:` hid every leak: refuse it
        if not pattern.strip():
            raise InputError(f"{where}: '{printable(line)}' has an empty "
                             f"pattern (write {kind.strip()}:* to match "
                             "every one)")
        rules.append(Rule(kind.strip(), pattern.strip(), where))
    return rules


def first_match(rules: Iterable[Rule], finding: Finding) -> Optional[Rule]:
    return next((rule for rule in rules if rule.matches(finding)), None)


# Leaks whose whole stack lies here belong to the tools a test suite runs
# (make, the shell, the compiler and their libraries), not to the project.
SYSTEM_PREFIXES = ("/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/", "/usr/lib/",
                   "/lib/", "/usr/lib64/", "/lib64/", "/usr/libexec/")


def system_leak(finding: Finding) -> bool:
    """A leak of a system program: every frame of its allocation stack is in
    an installed system binary or library.  One frame in the project's own
    code (a test, a Python extension it builds) makes it the project's."""
    if finding["type"] != "leak" or not finding["stack"]:
        return False
    modules = [text(f, "module") for f in finding["stack"]]
    return all(m and m.startswith(SYSTEM_PREFIXES) for m in modules)


def suppression_kind(finding: Finding) -> str:
    return "leak" if finding["type"] == "leak" else finding["kind"]


def suppression_lines(finding: Finding) -> List[str]:
    """The `kind:function` entry for a finding, naming its innermost named
    frame outside the runtime: the most specific name on the stack, and
    never a runtime function (`leak:malloc` would hide every leak).  A
    comment warns where no entry can be made or where it is too broad."""
    # a name of blanks makes no entry (`leak: ` has an empty pattern)
    named = [f for f in finding["stack"]
             if (text(f, "function") or "").strip() and not is_runtime(f)]
    if not named:
        return [f"# {finding['kind']}: no symbolized frame outside the "
                "runtime to name"]
    # '$' and a leading '^' are anchors in the pattern syntax (and '$' occurs
    # in Rust names as the demangler leaves them): make them wildcards so
    # the entry matches the name it was made from
    function = (text(named[0], "function") or "").replace("$", "*").replace("^", "*")
    if function != one_line(function):
        # a line break in it would start an entry of its own
        return [f"# {finding['kind']}: the function name "
                f"{one_line(function)} holds control characters: no entry"]
    entry = f"{suppression_kind(finding)}:{function}"
    if function == "main":
        return ["# 'main' is on every stack: narrow this entry by hand", entry]
    return [entry]


def load_suppressions(opts: Options) -> List[Rule]:
    rules = [] if opts.no_default_suppressions else parse_rules(
        DEFAULT_SUPPRESSIONS.splitlines(), "default suppressions")
    return rules + [rule for path in opts.suppressions
                    for rule in load_rules(path, "suppression")]
