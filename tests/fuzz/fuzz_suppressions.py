#!/usr/bin/env python3
"""fuzz_suppressions.py - random and mutation fuzzing of mpcheck's
suppression/baseline file parser (mpcheck/suppress.py: load_rules).

No coverage-guided engine for Python is installed (no atheris), so this is a
plain generator: each round writes one file, made either from scratch (lines
built from valid and broken kinds, separators, patterns with wildcards,
anchors, control and non-ASCII characters, invalid UTF-8, CR/LF/VT/FF/NEL/
U+2028 line breaks, comments, a BOM) or by mutating a corpus entry (bit
flips, byte insertions and deletions, line splices, duplications).  Then:

  * load_rules(path, "suppression") returns a list of Rule or raises the
    documented InputError; any other exception is a finding;
  * an InputError for a bad line names "<path>:<line>:" of the first line
    that is neither blank, a comment nor `kind:pattern` with a known kind;
  * otherwise there is exactly one rule per such line, in order, each with a
    known kind, and Rule.matches() works on synthetic findings (leaks and
    errors, frames with null/odd fields) without raising;
  * round trip (what --gen-suppressions promises): for a random finding
    (function names from C, C++, Rust-as-demangled-by-libstdc++, with
    wildcard and anchor characters), the lines suppression_lines() prints,
    written to a file and read back with load_rules, load without error and
    suppress that very finding, unless they are comments only.

A round-trip finding whose cause is already saved (the first line of a
.txt beside a saved input: "key: <cause>") is printed as known and does not
fail the run again; its saved input keeps failing the replay until fixed.
Findings are written to --regress DIR (tests/fuzz/regress/suppressions by
default) as <sha1>.supp (a parser input) or <sha1>.finding.json (a
round-trip finding) with the reason beside them (.txt); --replay FILES...
checks saved inputs only.  Exit status 1 when anything failed.

  fuzz_suppressions.py [--seconds N] [--seed S] [--corpus DIR]
                       [--regress DIR] [--known DIR] [--replay FILE...]
"""

import argparse
import hashlib
import os
import random
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("MPWRAP_ROOT") or os.path.dirname(os.path.dirname(HERE))


def load_mpcheck():
    """The package's suppression parser, with the names this fuzzer uses
    (the kinds, InputError, load_rules, first_match, suppression_lines)."""
    sys.path.insert(0, ROOT)
    from mpcheck import common, suppress
    return argparse.Namespace(
        ERROR_KINDS=common.ERROR_KINDS, LEAK_KINDS=common.LEAK_KINDS,
        SUPPRESSION_KINDS=common.SUPPRESSION_KINDS,
        InputError=common.InputError, load_rules=suppress.load_rules,
        first_match=suppress.first_match,
        suppression_lines=suppress.suppression_lines)


M = load_mpcheck()
KINDS = list(M.SUPPRESSION_KINDS)

# ------------------------------------------------------------ generation

ODD_CHARS = ["*", "^", "$", ":", "#", " ", "\t", "\\", ".", "(", ")", "[", "]",
             "?", "+", "{", "}", "|", "\x00", "\x01", "\x7f", "\u00e9",
             "\u4e2d", "\U0001f600", "\ufffd", "\u200b", "\ufeff"]
BREAKS = ["\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85",
          "\u2028", "\u2029"]
WORDS = ["main", "malloc", "operator new", "foo", "std::vector<int>::push_back",
         "libfoo.so", "/usr/lib/x.so", "src/a.c", "lk_*", "*leak*", "^main$",
         "g_*_new", "a$b", "^", "$", "*", "**", ""]


def rand_pattern(rng):
    parts = []
    for _ in range(rng.randrange(0, 6)):
        r = rng.random()
        if r < 0.4:
            parts.append(rng.choice(WORDS))
        elif r < 0.7:
            parts.append(rng.choice(ODD_CHARS))
        else:
            parts.append("".join(chr(rng.randrange(32, 127))
                                 for _ in range(rng.randrange(1, 12))))
    return "".join(parts)


def rand_kind(rng):
    r = rng.random()
    if r < 0.7:
        k = rng.choice(KINDS)
    elif r < 0.8:
        k = rng.choice(KINDS).upper()
    elif r < 0.9:
        k = rng.choice(["leaks", "leak ", " leak", "heap-buffer", "definite",
                        "error", "", "#leak", "\ufeffleak", "leak\x00"])
    else:
        k = rand_pattern(rng)
    return k


def rand_line(rng):
    r = rng.random()
    if r < 0.08:
        return ""
    if r < 0.16:
        return "#" + rand_pattern(rng)
    if r < 0.22:
        return " " * rng.randrange(0, 4) + "# " + rand_pattern(rng)
    if r < 0.27:
        return rand_pattern(rng)  # often no colon at all
    sep = rng.choice([":", ":", ":", " : ", "::", "="])
    ws = rng.choice(["", "", " ", "\t", "  "])
    return ws + rand_kind(rng) + sep + rand_pattern(rng) + ws


def rand_text(rng):
    lines = [rand_line(rng) for _ in range(rng.randrange(0, 12))]
    out = "\ufeff" if rng.random() < 0.03 else ""
    for line in lines:
        out += line + (rng.choice(BREAKS) if rng.random() < 0.2 else "\n")
    if lines and rng.random() < 0.3:
        out = out.rstrip("\n")
    return out


def rand_bytes(rng):
    text = rand_text(rng)
    enc = rng.choice(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16"])
    data = text.encode(enc, errors="replace")
    if rng.random() < 0.1:  # invalid UTF-8 sequences
        pos = rng.randrange(0, len(data) + 1)
        junk = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80",
                           b"\x80\x80", b"\xe2\x80"])
        data = data[:pos] + junk + data[pos:]
    return data


def mutate(rng, data, corpus):
    data = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        op = rng.randrange(7)
        if op == 0 and data:
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            i = rng.randrange(len(data) + 1)
            data[i:i] = bytes([rng.randrange(256)])
        elif op == 2 and data:
            i = rng.randrange(len(data))
            del data[i:i + rng.randrange(1, 8)]
        elif op == 3:
            i = rng.randrange(len(data) + 1)
            data[i:i] = rng.choice([b":", b"*", b"^", b"$", b"#", b"\n",
                                    b"\r", b"leak:", b"\x00", b"\xc3\xa9"])
        elif op == 4 and corpus:  # splice with another input
            other = rng.choice(corpus)
            i = rng.randrange(len(data) + 1)
            j = rng.randrange(len(other) + 1)
            data = data[:i] + other[j:]
        elif op == 5 and data:
            i = rng.randrange(len(data))
            j = min(len(data), i + rng.randrange(1, 32))
            data[j:j] = data[i:j]
        else:
            data += rand_line(rng).encode() + b"\n"
    return bytes(data)


# ------------------------------------------------------------- the oracle

def expected(data):
    """(rule lines as (number, kind), first bad line number or None),
    straight from the documented format: one rule per line that is not
    blank and not a comment, `kind:pattern` with a known kind and a
    pattern that is not empty; a leading byte-order mark is no part of the
    first line; a file with a NUL byte is not text (bad line 0: the whole
    file)."""
    if b"\0" in data:
        return [], 0
    lines = data.decode("utf-8-sig", errors="replace").splitlines()
    rules = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, colon, pattern = line.partition(":")
        if not colon or kind.strip() not in KINDS or not pattern.strip():
            return rules, number
        rules.append((number, kind.strip()))
    return rules, None


def findings():
    frames = [
        {"function": "main", "file": "/src/a.c", "module": "/bin/prog"},
        {"function": None, "file": None, "module": None},
        {"function": "", "file": "", "module": "libc.so.6"},
        {"function": "a$b", "module": "/lib/x:y.so", "file": "*"},
        {"pc": "0x1"},
        {"function": 7, "file": ["x"], "module": {}},
        {"function": "\u4e2d\x00\n", "file": "^main$", "module": "lk_*"},
    ]
    out = []
    for kind in KINDS:
        for stack in ([], frames, frames[:1], frames[3:]):
            if kind == "leak":
                out.append({"type": "leak", "kind": "definite", "stack": stack})
            else:
                out.append({"type": "error", "kind": kind, "stack": stack})
    return out


FINDINGS = findings()


def check(data, path):
    """Run the parser on `data` (written to `path`); return None or a
    description of what went wrong."""
    with open(path, "wb") as f:
        f.write(data)
    want_rules, bad_line = expected(data)
    try:
        rules = M.load_rules(path, "suppression")
    except M.InputError as e:
        msg = str(e)
        if bad_line is None:
            return f"InputError for a valid file: {msg}"
        if bad_line == 0:
            return None if "NUL bytes" in msg else \
                f"InputError for a file with NUL bytes does not say so: {msg}"
        if not msg.startswith(f"{path}:{bad_line}: "):
            return (f"InputError names the wrong line (expected "
                    f"{path}:{bad_line}): {msg}")
        return None
    except Exception:  # the finding: anything but the documented error
        return "unexpected exception:\n" + traceback.format_exc()
    if bad_line is not None:
        return f"line {bad_line} is malformed but load_rules accepted the file"
    if not isinstance(rules, list) or len(rules) != len(want_rules):
        return (f"{len(rules) if isinstance(rules, list) else rules!r} rules,"
                f" expected {len(want_rules)}")
    for rule, (number, kind) in zip(rules, want_rules):
        if rule.kind != kind or rule.where != f"{path}:{number}":
            return (f"rule {rule.kind!r} at {rule.where}, expected {kind!r} "
                    f"at {path}:{number}")
        try:
            for finding in FINDINGS:
                rule.matches(finding)
        except Exception:
            return "Rule.matches raised:\n" + traceback.format_exc()
    return None


# -------------------------------------------------------------- round trip

NAME_PARTS = ["main", "foo", "bar_baz", "ns::f", "std::vector<int>::push_back",
              "operator*", "operator()", "operator<=>", "(anonymous namespace)",
              "{lambda()#1}", "f(int, char const*)", "g.part.0", "h.cold",
              "$LT$", "$GT$", "$u7b$", "..", "::h1234abcd", "a$b", "^", "*",
              "[", "]", "\\", " ", ":", "#", "\u00e9", "\u4e2d"]


def rand_function(rng):
    name = "".join(rng.choice(NAME_PARTS) for _ in range(rng.randrange(1, 5)))
    if rng.random() < 0.3:  # a plain C identifier
        name = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz_0123456789")
                       for _ in range(rng.randrange(1, 16)))
    return name


def rand_finding(rng):
    stack = []
    for _ in range(rng.randrange(1, 5)):
        fn = rand_function(rng) if rng.random() < 0.9 else None
        module = rng.choice(["/usr/bin/prog", "/lib/x86_64-linux-gnu/libc.so.6",
                             "/work/libmpwrap.so", "/opt/a$b/lib.so", None])
        stack.append({"pc": "0x1234", "function": fn,
                      "file": rng.choice(["/src/a.c", None, "x.rs"]),
                      "line": 3, "module": module, "offset": "0x10"})
    if rng.random() < 0.5:
        return {"type": "leak", "kind": rng.choice(M.LEAK_KINDS),
                "bytes": 8, "blocks": 1, "stack": stack}
    return {"type": "error", "kind": rng.choice(M.ERROR_KINDS), "stack": stack}


def check_roundtrip(finding, path):
    try:
        lines = M.suppression_lines(finding)
    except Exception:
        return "suppression_lines raised:\n" + traceback.format_exc()
    entries = [ln for ln in lines if ln.strip() and not ln.startswith("#")]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    try:
        rules = M.load_rules(path, "suppression")
    except M.InputError as e:
        return (f"--gen-suppressions entry {entries!r} does not load back: "
                f"{e}")
    except Exception:
        return "unexpected exception:\n" + traceback.format_exc()
    if entries and M.first_match(rules, finding) is None:
        return (f"--gen-suppressions entry {entries!r} does not suppress "
                f"its own finding (function names "
                f"{[fr.get('function') for fr in finding['stack']]!r})")
    return None


def check_file(name, path):
    """Replay one saved input: a parser input or a round-trip finding."""
    if name.endswith(".json"):
        import json
        with open(name, encoding="utf-8") as f:
            return check_roundtrip(json.load(f), path)
    with open(name, "rb") as f:
        return check(f.read(), path)


# ---------------------------------------------------------------- driver

def roundtrip_key(finding, why):
    """One saved input per cause: names with LeakSanitizer anchors, names
    with line breaks, anything else."""
    names = "".join(fr.get("function") or "" for fr in finding["stack"]
                    if isinstance(fr.get("function"), str))
    if "does not load back" in why:
        return "roundtrip: name splits the line"
    if "$" in names or "^" in names:
        return "roundtrip: name holds a pattern anchor ($ or ^)"
    return "roundtrip: " + why.splitlines()[0][:60]


def known_findings(regress):
    """key -> file of the findings saved before (first line "key: ...")."""
    known = {}
    if os.path.isdir(regress):
        for name in sorted(os.listdir(regress)):
            if name.endswith(".txt"):
                with open(os.path.join(regress, name), errors="replace") as f:
                    first = f.readline().rstrip("\n")
                if first.startswith("key: "):
                    known[first[5:]] = os.path.join(regress, name)
    return known


def save(regress, data, why, ext=".supp", key=None):
    os.makedirs(regress, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(regress, name + ext), "wb") as f:
        f.write(data)
    with open(os.path.join(regress, name + ".txt"), "w") as f:
        f.write((f"key: {key}\n" if key else "") + why + "\n")
    return os.path.join(regress, name + ext)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--corpus", default=None)
    ap.add_argument("--regress",
                    default=os.path.join(HERE, "regress", "suppressions"))
    ap.add_argument("--known", default=None,
                    help="directory of saved findings (default: --regress)")
    ap.add_argument("--replay", nargs="*", default=None)
    args = ap.parse_args()

    tmpdir = tempfile.mkdtemp(prefix="fuzz_supp.")
    path = os.path.join(tmpdir, "rules.supp")
    failures = 0
    try:
        if args.replay is not None:
            for name in args.replay:
                why = check_file(name, path)
                print(("not ok" if why else "ok") + f" - replay {name}")
                if why:
                    failures += 1
                    print("# " + why.replace("\n", "\n# "))
            return 1 if failures else 0

        seed = args.seed if args.seed is not None else int(time.time())
        rng = random.Random(seed)
        corpus = []
        if args.corpus:
            os.makedirs(args.corpus, exist_ok=True)
            for name in sorted(os.listdir(args.corpus)):
                with open(os.path.join(args.corpus, name), "rb") as f:
                    corpus.append(f.read())
        seen_bad = set()
        known = known_findings(args.known or args.regress)
        known_hits = 0
        execs = accepted = rejected = roundtrips = 0
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            if rng.random() < 0.2:  # a round trip of --gen-suppressions
                finding = rand_finding(rng)
                why = check_roundtrip(finding, path)
                execs += 1
                roundtrips += 1
                if why:
                    key = roundtrip_key(finding, why)
                    if key in known:
                        if key not in seen_bad:
                            print(f"known finding ({key}), saved before as "
                                  f"{known[key]}: {why}")
                        seen_bad.add(key)
                        known_hits += 1
                    elif key not in seen_bad:
                        seen_bad.add(key)
                        failures += 1
                        import json
                        data = json.dumps(finding, indent=1).encode()
                        saved = save(args.regress, data, why, ".finding.json",
                                     key)
                        print(f"FINDING: {saved}\n# " + why.replace("\n", "\n# "))
                continue
            if corpus and rng.random() < 0.5:
                data = mutate(rng, rng.choice(corpus), corpus)
            else:
                data = rand_bytes(rng)
            why = check(data, path)
            execs += 1
            if why:
                key = why.splitlines()[-1][:200]
                if key not in seen_bad:
                    seen_bad.add(key)
                    failures += 1
                    saved = save(args.regress, data, why)
                    print(f"FINDING: {saved}\n# " + why.replace("\n", "\n# "))
                continue
            _, bad = expected(data)
            if bad is None:
                accepted += 1
            else:
                rejected += 1
            # keep a bounded, varied corpus for later runs' mutations
            if args.corpus and (len(corpus) < 300 and rng.random() < 0.02):
                corpus.append(data)
                name = hashlib.sha1(data).hexdigest()
                with open(os.path.join(args.corpus, name), "wb") as f:
                    f.write(data)
        print(f"fuzz_suppressions: seed {seed}, {execs} executions in "
              f"{args.seconds:g} s ({accepted} accepted files, {rejected} "
              f"rejected with InputError, {roundtrips} gen-suppressions round "
              f"trips), corpus {len(corpus)}, "
              f"{failures} new distinct finding(s), {known_hits} hits of "
              f"known ones")
        return 1 if failures else 0
    finally:
        for name in os.listdir(tmpdir):
            os.unlink(os.path.join(tmpdir, name))
        os.rmdir(tmpdir)


if __name__ == "__main__":
    sys.exit(main())
