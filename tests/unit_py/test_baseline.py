"""mpcheck.baseline: the file --baseline-out writes is read back by
--baseline and accepts exactly the findings it was written from."""

import os
import tempfile
import unittest

from mpcheck import baseline, cli, common
from reportdata import aggregate, frame, leak, libc, report


class Baseline(unittest.TestCase):
    def run_with(self, leaks, argv=()):
        agg = aggregate(argv)
        agg.fold(7, report(7, leaks))
        return agg

    def test_round_trip(self):
        first = self.run_with([leak("definite", 8, libc("malloc"),
                                    frame("cache_put")),
                               leak("indirect", 8, frame("main"))])
        text = baseline.baseline_text(first, ["make", "check\nx"])
        self.assertEqual(text.splitlines()[1],
                         "# From a run of: make 'check x'")
        self.assertEqual(baseline.baseline_entries(first), 2)
        self.assertIn("leak:cache_put", text.splitlines())
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "baseline.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            opts = cli.parse_args(["--baseline", path, "p"])
            rules = baseline.load_baselines(opts)
            self.assertTrue(all(r.where.startswith(path) for r in rules))
            again = aggregate()
            again.baseline = rules
            again.fold(8, report(8, [leak("definite", 8, frame("cache_put")),
                                     leak("definite", 8, frame("other"))]))
            s = again.summary(0)
            self.assertEqual((s["baseline"], s["leaks"]), (1, 1))

    def test_suppressed_findings_stay_out(self):
        agg = aggregate(suppressions=["leak:hidden"])
        agg.fold(1, report(1, [leak("definite", 8, frame("hidden"))]))
        self.assertEqual(baseline.baseline_entries(agg), 0)

    def test_a_missing_baseline_says_how_to_make_one(self):
        opts = cli.parse_args(["--baseline", "/nonexistent/b", "p"])
        with self.assertRaisesRegex(common.InputError,
                                    "--baseline-out /nonexistent/b"):
            baseline.load_baselines(opts)


if __name__ == "__main__":
    unittest.main()
