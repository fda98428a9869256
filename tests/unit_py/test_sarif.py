"""mpcheck.sarif: the log of an aggregate validates against the SARIF 2.1.0
schema (tests/sarif, with python3-jsonschema), every result has a location,
and results sit at the first frame a user can edit."""

import io
import json
import os
import unittest

from mpcheck import cli, sarif
from reportdata import aggregate, error, frame, leak, libc, report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import jsonschema
except ImportError:
    jsonschema = None


def log_of(agg, argv=()):
    out = io.StringIO()
    opts = cli.parse_args(["--source-root", "/home/u/proj"] + list(argv) +
                          ["./app"])
    sarif.write_sarif(out, agg, opts, 0, "./app")
    return json.loads(out.getvalue())


def sample():
    agg = aggregate(suppressions=["leak:hidden"])
    agg.fold(1, report(1, [
        leak("definite", 16, libc("malloc"),
             frame("cache_put", file="/home/u/proj/src/cache.c", line=42)),
        leak("definite", 8, frame("hidden")),
        leak("indirect", 8, libc("malloc"), frame("build_list"))],
        [error("heap-buffer-overflow",
               frame("fill", file="/usr/include/x86_64-linux-gnu/bits/string_fortified.h"),
               frame("caller", file="/home/u/proj/src/a.c", line=7),
               count=0)]))
    return agg


class Sarif(unittest.TestCase):
    @unittest.skipIf(jsonschema is None, "python3-jsonschema not installed")
    def test_validates_against_the_schema(self):
        with open(os.path.join(ROOT, "sarif", "sarif-schema-2.1.0.json"),
                  encoding="utf-8") as f:
            validator = jsonschema.Draft7Validator(json.load(f))
        for argv in ((), ("--baseline", "/dev/null")):
            with self.subTest(argv=argv):
                errors = [e.message[:200] for e in
                          validator.iter_errors(log_of(sample(), argv))]
                self.assertEqual(errors, [])

    def test_results_rules_and_places(self):
        run = log_of(sample())["runs"][0]
        rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
        self.assertEqual(rules, ["definite", "heap-buffer-overflow",
                                 "indirect"])
        results = {r["ruleId"]: r for r in run["results"]}
        self.assertEqual(len(run["results"]), 3)    # the suppressed one left out
        for r in run["results"]:
            self.assertEqual(rules[r["ruleIndex"]], r["ruleId"])
            self.assertTrue(r["locations"][0]["physicalLocation"]
                            ["artifactLocation"]["uri"])
        place = results["definite"]["locations"][0]["physicalLocation"]
        self.assertEqual(place["artifactLocation"],
                         {"uri": "src/cache.c", "uriBaseId": "SRCROOT"})
        self.assertEqual(place["region"], {"startLine": 42})
        # a system header is not a place to fix: the caller is
        place = results["heap-buffer-overflow"]["locations"][0]
        self.assertEqual(place["physicalLocation"]["artifactLocation"]["uri"],
                         "src/a.c")
        self.assertEqual(run["originalUriBaseIds"]["SRCROOT"]["uri"],
                         "file:///home/u/proj/")

    def test_baseline_state_only_with_a_baseline(self):
        self.assertNotIn("baselineState", log_of(sample())["runs"][0]
                         ["results"][0])
        results = log_of(sample(), ("--baseline", "/dev/null"))["runs"][0][
            "results"]
        self.assertEqual({r["baselineState"] for r in results}, {"new"})

    def test_every_kind_has_a_rule(self):
        from mpcheck import common
        for kind in common.ERROR_KINDS + common.LEAK_KINDS:
            with self.subTest(kind=kind):
                self.assertEqual(sarif.sarif_rule(kind)["id"], kind)


if __name__ == "__main__":
    unittest.main()
