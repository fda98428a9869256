"""mpcheck.testnames: which runner a process chain shows, and which test's
command a process ran (prove's script, CTest's and meson's commands)."""

import os
import tempfile
import unittest

from mpcheck import testnames


class Names(unittest.TestCase):
    def test_runner_of(self):
        self.assertEqual(testnames.runner_of(["/usr/bin/ctest", "-j8"]), "ctest")
        self.assertEqual(testnames.runner_of(["/usr/bin/perl", "/usr/bin/prove", "t/"]),
                         "prove")
        self.assertEqual(testnames.runner_of(["/usr/bin/python3", "/usr/bin/meson",
                                              "test", "-C", "b"]), "meson")
        # meson compiling is no test run; a script named like a runner's
        # argument is not one either
        self.assertIsNone(testnames.runner_of(["meson", "compile"]))
        self.assertIsNone(testnames.runner_of(["/bin/sh", "t/x.t", "prove"]))
        self.assertIsNone(testnames.runner_of(["./a.out", "ctest"]))

    def test_script_of(self):
        self.assertEqual(testnames.script_of(["/bin/sh", "t/b.t"]), "t/b.t")
        self.assertEqual(testnames.script_of(["/usr/bin/perl", "-w", "t/a.t"]), "t/a.t")
        self.assertEqual(testnames.script_of(["t/run.t", "x"]), "t/run.t")

    def test_matches_a_shebang_and_a_wrapper(self):
        cmd = ["/b/t.sh", "--x"]
        self.assertTrue(testnames.matches(["/bin/sh", "/b/t.sh", "--x"], "/b", cmd, "/b"))
        self.assertTrue(testnames.matches(["valgrind", "-q", "/b/t.sh", "--x"], "/b", cmd, "/b"))
        self.assertFalse(testnames.matches(["/b/t.sh"], "/b", cmd, "/b"))
        self.assertTrue(testnames.matches(["./t.sh", "--x"], "/b", cmd, "/b"))
        self.assertFalse(testnames.matches(["/c/t.sh", "--x"], "/b", cmd, "/b"))

    def test_links_to_one_script_are_different_tests(self):
        # json-c: tests/test_a.test and test_b.test are links to one script
        with tempfile.TemporaryDirectory() as d:
            real = os.path.join(d, "basic.test")
            open(real, "w").close()
            for name in ("a.test", "b.test"):
                os.symlink(real, os.path.join(d, name))
            a, b = os.path.join(d, "a.test"), os.path.join(d, "b.test")
            self.assertTrue(testnames.matches(["/bin/sh", a], d, [a], d))
            self.assertFalse(testnames.matches(["/bin/sh", a], d, [b], d))

    def test_name_from_a_chain(self):
        names = testnames.TestNames()
        report = {"argv": ["./leaky"], "cwd": "/w",
                  "ancestors": [{"pid": 3, "argv": ["/bin/sh", "-c", "./leaky"], "cwd": "/w"},
                                {"pid": 2, "argv": ["/usr/bin/perl", "t/b.t"], "cwd": "/w"},
                                {"pid": 1, "argv": ["/usr/bin/perl", "/usr/bin/prove"], "cwd": "/w"}]}
        self.assertEqual(names.name(report), ("t/b.t", "prove"))
        # above mpcheck nothing counts; a broken entry ends the chain
        report["ancestors"][1] = {"pid": 2, "argv": ["python3", "/x/mpcheck"]}
        self.assertIsNone(names.name(report))
        report["ancestors"][1] = {"pid": 2, "argv": None}
        self.assertIsNone(names.name(report))
        self.assertIsNone(names.name({"argv": "x", "ancestors": "y"}))

    def test_an_unreadable_list_is_one_note(self):
        names = testnames.TestNames()
        report = {"argv": ["/b/t"], "cwd": "/b",
                  "ancestors": [{"pid": 1, "argv": ["/nonexistent/ctest"], "cwd": "/"}]}
        self.assertIsNone(names.name(report))
        self.assertIsNone(names.name(report))
        self.assertEqual(len(names.problems), 1)
        self.assertIn("no test names from ctest in /", names.problems[0])


if __name__ == "__main__":
    unittest.main()
