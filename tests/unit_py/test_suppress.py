"""mpcheck.suppress: the wildcard matcher (LeakSanitizer's syntax), rules
files and lines, matching findings, --gen-suppressions entries."""

import os
import re
import tempfile
import unittest

from mpcheck import common, suppress


def frame(function=None, module=None, file=None):
    return {"function": function, "module": module, "file": file}


def leak(*frames, kind="definite"):
    return {"type": "leak", "kind": kind, "stack": list(frames)}


def reference(pattern, s):
    anchored = pattern.startswith("^")
    body = pattern[1:] if anchored else pattern
    body, dollar, _ = body.partition("$")
    rx = ".*".join(re.escape(p) for p in body.split("*"))
    return re.search(("\\A" if anchored else "") + rx +
                     ("\\Z" if dollar else ""), s, re.S) is not None


class Wildcard(unittest.TestCase):
    def test_substring_star_and_anchors(self):
        cases = [("foo", "xfooy", True), ("^foo", "xfoo", False),
                 ("^foo", "foox", True), ("foo$", "foox", False),
                 ("foo$", "xfoo", True), ("^f*o$", "fo", True),
                 ("a*b*c", "aXXbYYc", True), ("a*b*c", "acb", False),
                 ("g_*_new", "g_hash_table_new", True)]
        for pattern, name, want in cases:
            with self.subTest(pattern=pattern, name=name):
                self.assertEqual(suppress.compile_pattern(pattern)
                                 .search(name), want)

    def test_star_alone_matches_everything(self):
        self.assertIsNone(suppress.compile_pattern("*"))

    def test_agrees_with_a_regular_expression(self):
        import random
        rng = random.Random(25)
        for _ in range(3000):
            body = "".join(rng.choice("ab*") for _ in range(rng.randint(1, 5)))
            pattern = rng.choice(["", "^"]) + body + rng.choice(["", "$"])
            s = "".join(rng.choice("ab") for _ in range(rng.randint(0, 8)))
            m = suppress.compile_pattern(pattern)
            got = True if m is None else m.search(s)
            self.assertEqual(got, reference(pattern, s), (pattern, s))


class Rules(unittest.TestCase):
    def test_parse_skips_comments_and_blank_lines(self):
        rules = suppress.parse_rules(
            ["# c", "", "  leak:foo  ", "double-free:^bar$"], "f.supp")
        self.assertEqual([(r.kind, r.where) for r in rules],
                         [("leak", "f.supp:3"), ("double-free", "f.supp:4")])

    def test_malformed_and_empty_patterns_are_refused(self):
        for line, why in (("foo", "malformed"), ("leek:foo", "malformed"),
                          ("leak:", "empty pattern"),
                          ("leak:   ", "empty pattern")):
            with self.subTest(line=line):
                with self.assertRaisesRegex(common.InputError, why):
                    suppress.parse_rules([line], "x")

    def test_control_characters_are_escaped_in_errors(self):
        with self.assertRaises(common.InputError) as e:
            suppress.parse_rules(["bad\x1b[2Jline"], "x")
        self.assertNotIn("\x1b", str(e.exception))
        self.assertIn("\\x1b", str(e.exception))

    def test_first_match_by_kind_and_any_frame_name(self):
        rules = suppress.parse_rules(
            ["double-free:foo", "leak:libbar.so", "leak:^util.c$"], "s")
        self.assertIsNone(suppress.first_match(rules, leak(frame("foo"))))
        self.assertEqual(suppress.first_match(
            rules, leak(frame("x", "/lib/libbar.so.1"))).where, "s:2")
        self.assertIsNone(suppress.first_match(
            rules, leak(frame("x", file="src/util.c"))))
        self.assertEqual(suppress.first_match(
            rules, {"type": "error", "kind": "double-free",
                    "stack": [frame("foo")]}).where, "s:1")

    def test_load_rules_reads_a_file_with_a_byte_order_mark(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "s.supp")
            with open(path, "wb") as f:
                f.write(b"\xef\xbb\xbfleak:foo\r\nleak:bar\n")
            rules = suppress.load_rules(path, "suppression")
            self.assertEqual(len(rules), 2)
            with open(path, "wb") as f:
                f.write(b"leak:foo\0")
            with self.assertRaisesRegex(common.InputError, "NUL bytes"):
                suppress.load_rules(path, "suppression")

    def test_default_suppressions_parse(self):
        rules = suppress.parse_rules(
            suppress.DEFAULT_SUPPRESSIONS.splitlines(), "default")
        self.assertTrue(rules)
        self.assertTrue(all(r.kind == "leak" for r in rules))


class Generated(unittest.TestCase):
    def test_names_the_innermost_frame_outside_the_runtime(self):
        f = leak(frame("malloc", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
                 frame("make$thing", "/p/app"), frame("main", "/p/app"))
        self.assertEqual(suppress.suppression_lines(f), ["leak:make*thing"])

    def test_main_is_flagged_and_no_name_is_a_comment(self):
        self.assertEqual(suppress.suppression_lines(leak(frame("main"))),
                         ["# 'main' is on every stack: narrow this entry "
                          "by hand", "leak:main"])
        self.assertTrue(suppress.suppression_lines(
            leak(frame(None, "/p/app")))[0].startswith("#"))

    def test_an_entry_matches_the_finding_it_came_from(self):
        f = leak(frame("^odd$name", "/p/app"))
        rules = suppress.parse_rules(suppress.suppression_lines(f), "g")
        self.assertIsNotNone(suppress.first_match(rules, f))

    def test_system_leak_needs_every_frame_in_the_system(self):
        self.assertTrue(suppress.system_leak(
            leak(frame("x", "/usr/bin/make"), frame("y", "/lib/libc.so.6"))))
        self.assertFalse(suppress.system_leak(
            leak(frame("x", "/usr/bin/make"), frame("y", "/home/p/t"))))
        self.assertFalse(suppress.system_leak(leak()))


if __name__ == "__main__":
    unittest.main()
