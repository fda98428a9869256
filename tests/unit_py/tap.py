#!/usr/bin/env python3
"""tap.py - runs the unittest modules beside it (test_*.py) and prints one
TAP line per test case (`ok N - module.Class.test`, `not ok N - ...` with
the traceback as `#` lines, skips as `# SKIP`), without the plan line:
t_unit_py.sh adds its own checks and the plan.  Exit status 1 when a test
failed or none ran."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("MPWRAP_ROOT") or os.path.dirname(os.path.dirname(HERE))


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0

    def line(self, ok, test, extra=""):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {test.id()}{extra}",
              flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.line(True, test)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.line(True, test, f" # SKIP {reason}")

    def _bad(self, test, err, what):
        self.line(False, test)
        for text in self._exc_info_to_string(err, test).splitlines()[-25:]:
            print(f"#   {what}: {text}")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._bad(test, err, "failure")

    def addError(self, test, err):
        super().addError(test, err)
        self._bad(test, err, "error")

    def addSubTest(self, test, subtest, err):
        # a failed subtest is the test case's failure (unittest then calls
        # neither addSuccess nor addFailure for the case itself)
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._bad(subtest, err, "failure")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.line(True, test, " # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.line(False, test, " (unexpected success)")


def main():
    sys.path.insert(0, ROOT)        # the checkout's mpcheck package
    sys.path.insert(0, HERE)        # the test modules' helpers
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py",
                                                top_level_dir=HERE)
    result = TapResult()
    suite.run(result)
    return 0 if result.wasSuccessful() and result.n else 1


if __name__ == "__main__":
    sys.exit(main())
