"""mpcheck.inputs - checks made before the run starts: the program to run
(found on PATH, not a static binary), libmpwrap.so (MPWRAP_LIB or beside the
command), the output paths (never replace a file mpcheck did not write),
and write_atomic, which writes every output through a temporary file."""

from __future__ import annotations

import os
import re
import stat
import struct
import tempfile
from typing import Any, Callable, IO

from .common import InputError


# Per ELF class (1: 32-bit, 2: 64-bit): e_phoff's format and offset, and
# the offset of e_phentsize (followed by e_phnum).
ELF_LAYOUT = {1: ("I", 28, 42), 2: ("Q", 32, 54)}
# Read before any thread or child exists: files mpcheck writes get the
# permissions the user's umask asks for, not mkstemp's 0600.
UMASK = os.umask(0)
os.umask(UMASK)


def resolve_program(name: str) -> str:
    """Find the program like a shell does; return the path to execute."""
    if "/" in name:
        if not os.path.exists(name):
            raise InputError(f"{name}: no such file or directory")
        candidates = [name]
    else:
        search = os.environ.get("PATH", os.defpath).split(":")
        candidates = [os.path.join(d or ".", name) for d in search]
    unrunnable = False
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        unrunnable = unrunnable or os.path.exists(path)
    if unrunnable:
        raise InputError(f"{name}: not executable")
    raise InputError(f"{name}: command not found")


def is_static_elf(path: str) -> bool:
    """True for an ELF executable without PT_INTERP: the dynamic loader never
    runs for it, so LD_PRELOAD is silently ignored.  Anything unreadable or
    not ELF (a #! script, say) is left for the kernel to judge."""
    try:
        with open(path, "rb") as f:
            header = f.read(64)
            if len(header) < 52 or header[:4] != b"\x7fELF" or \
                    header[4] not in ELF_LAYOUT:
                return False
            endian = "<" if header[5] == 1 else ">"
            phoff_format, phoff_at, phentsize_at = ELF_LAYOUT[header[4]]
            e_type, = struct.unpack_from(endian + "H", header, 16)
            e_phoff, = struct.unpack_from(endian + phoff_format, header,
                                          phoff_at)
            e_phentsize, e_phnum = struct.unpack_from(endian + "HH", header,
                                                      phentsize_at)
            if e_type not in (2, 3) or e_phentsize < 4:   # ET_EXEC, ET_DYN
                return False
            f.seek(e_phoff)
            table = f.read(e_phentsize * e_phnum)
    except OSError:
        return False
    if len(table) < e_phentsize * e_phnum:
        return False
    p_types = (struct.unpack_from(endian + "I", table, off)[0]
               for off in range(0, len(table), e_phentsize))
    return 3 not in p_types                               # PT_INTERP


def command_dir() -> str:
    """The directory the mpcheck command is in, where libmpwrap.so is looked
    for from: scripts/ in a checkout (this package is at its root) or
    $PREFIX/bin when installed (the package in $PREFIX/lib/mpwrap/python)."""
    parent = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    if parent.endswith(os.path.join("lib", "mpwrap", "python")):
        prefix = os.path.dirname(os.path.dirname(os.path.dirname(parent)))
        return os.path.join(prefix, "bin")
    return os.path.join(parent, "scripts")


def find_library() -> str:
    override = os.environ.get("MPWRAP_LIB")
    if override:
        if not os.path.isfile(override):
            raise InputError(f"libmpwrap.so not found: MPWRAP_LIB={override}"
                             " does not exist")
        candidates = [override]
    else:
        here = command_dir()
        prefix = os.path.dirname(here)     # the repository root when in-tree
        candidates = [os.path.join(here, "libmpwrap.so"),
                      os.path.join(prefix, "libmpwrap.so"),
                      os.path.join(prefix, "lib", "mpwrap", "libmpwrap.so"),
                      os.path.join(prefix, "lib", "libmpwrap.so")]
    for path in candidates:
        if os.path.isfile(path):
            path = os.path.abspath(path)
            if re.search(r"[:\s]", path):    # LD_PRELOAD splits on both
                raise InputError(f"libmpwrap.so path '{path}' contains ':' "
                                 "or whitespace; LD_PRELOAD cannot name it")
            return path
    raise InputError("libmpwrap.so not found (build it, install it beside "
                     "mpcheck or set MPWRAP_LIB)")


def check_output_path(option: str, path: str) -> None:
    """Fail before the run rather than lose a report after it."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise InputError(f"{option}: cannot write '{path}': "
                         f"no directory '{directory}'")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"{option}: cannot write '{path}': "
                         f"directory '{directory}' is not writable")
    if os.path.isdir(path):
        raise InputError(f"{option}: cannot write '{path}': is a directory")
    refuse_to_replace(option, path)


# The first bytes of each output of ours: a file that does not start so is
# not replaced (or appended to): `--json /etc/passwd` as root would have
# made the user database a report.
OWN_OUTPUT = {
    "--json": re.compile(rb'\{\s*"version"\s*:\s*\d+\s*,\s*"tool"\s*:\s*"mpwrap"'),
    "--sarif": re.compile(rb'\{\s*"\$schema"\s*:\s*"[^"]*sarif[^"]*"\s*,'
                          rb'\s*"version"\s*:\s*"2\.1\.0"\s*,\s*"runs"\s*:\s*\['
                          rb'\s*\{\s*"tool"\s*:\s*\{\s*"driver"\s*:\s*\{\s*'
                          rb'"name"\s*:\s*"mpwrap"'),
    "--baseline-out": re.compile(rb"# mpcheck baseline"),
    "--flamegraph": re.compile(rb"[^\n]+ [0-9]+\n"),   # folded stacks
    "--html": re.compile(rb"<!DOCTYPE html>\n<!-- mpcheck --html"),
    "--log-file": re.compile(rb"==\d+== "),
}


def refuse_to_replace(option: str, path: str) -> None:
    """Reports are new regular files or replace a regular file of ours: a
    rename over '/dev/stdout' (a link to a device) as root would turn it
    into a regular file, and one over another user's file would take it.
    A file of the user's is replaced only when empty or one of ours (its
    first bytes, OWN_OUTPUT); the log is appended to on the same terms."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise InputError(f"{option}: cannot write '{path}': {e.strerror}")
    why = ("it is a symbolic link" if stat.S_ISLNK(st.st_mode) else
           "it is not a regular file" if not stat.S_ISREG(st.st_mode) else
           "it belongs to another user" if st.st_uid != os.geteuid() else
           "it has other hard links" if st.st_nlink > 1 else None)
    log = option == "--log-file"
    if not why and st.st_size and option in OWN_OUTPUT:
        try:
            with open(path, "rb") as f:
                head = f.read(512)
        except OSError:
            head = b""
        if not OWN_OUTPUT[option].match(head):
            why = f"it is not an mpcheck {'log' if log else 'output'}"
    if why:
        raise InputError(f"{option}: not {'appending to' if log else 'replacing'}"
                         f" '{path}': {why}")


FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"),
              (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
              (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def file_kind(mode: int) -> str:
    return next((name for test, name in FILE_KINDS if test(mode)),
                "not a regular file")


def write_atomic(path: str, write: Callable[[IO[str]], Any],
                 option: str = "output") -> None:
    """Temp file in the same directory + rename: readers never see a half
    written report, and a failed run leaves the previous file intact.
    `write` gets the open file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp",
                               prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~UMASK)
        refuse_to_replace(option, path)     # again: it may have appeared
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
