"""mpcheck.cli: option parsing (one exact UsageError line per mistake, the
program's own options never taken for mpcheck's)."""

import contextlib
import io
import unittest

from mpcheck import cli, common


class ParseArgs(unittest.TestCase):
    def test_defaults(self):
        opts = cli.parse_args(["prog"])
        self.assertEqual(opts.command, ["prog"])
        self.assertEqual(opts.exitcode, common.DEFAULT_GATE_STATUS)
        self.assertEqual(opts.leak_kinds, list(common.DEFAULT_LEAK_KINDS))
        self.assertIsNone(opts.locate)
        self.assertTrue(opts.progress)

    def test_program_options_are_the_programs(self):
        opts = cli.parse_args(["-q", "--json=r.json", "make", "--json", "-q"])
        self.assertTrue(opts.quiet)
        self.assertEqual(opts.json, "r.json")
        self.assertEqual(opts.command, ["make", "--json", "-q"])
        self.assertEqual(cli.parse_args(["--", "--json"]).command, ["--json"])
        self.assertEqual(cli.parse_args(["-", "x"]).command, ["-", "x"])

    def test_values_repeatable_and_converted(self):
        opts = cli.parse_args(["--suppressions", "a", "--suppressions=b",
                               "--stack-depth", "7", "--leak-kinds",
                               "definite,possible", "--no-locate", "p"])
        self.assertEqual(opts.suppressions, ["a", "b"])
        self.assertEqual(opts.stack_depth, 7)
        self.assertEqual(opts.leak_kinds, ["definite", "possible"])
        self.assertIs(opts.locate, False)

    def test_errors_are_one_line(self):
        cases = [(["--bogus", "p"], "unrecognized option '--bogus'"),
                 (["--quiet=1", "p"], "option '--quiet' takes no argument"),
                 (["--json"], "option '--json' requires an argument"),
                 (["--exitcode", "0", "p"], "--exitcode"),
                 (["--exitcode", "x", "p"], "--exitcode"),
                 (["--stack-depth", "65", "p"], "--stack-depth"),
                 (["--json", "", "p"], "--json: empty path"),
                 (["--leak-kinds", "lost", "p"], "--leak-kinds")]
        for argv, want in cases:
            with self.subTest(argv=argv):
                with self.assertRaises(common.UsageError) as e:
                    cli.parse_args(argv)
                self.assertIn(want, str(e.exception))
                self.assertNotIn("\n", str(e.exception))

    def test_help_and_version_exit_zero(self):
        for arg, want in (("--help", "usage: mpcheck"), ("-h", "usage:"),
                          ("--version", f"mpcheck {common.VERSION}")):
            out = io.StringIO()
            with self.subTest(arg=arg), contextlib.redirect_stdout(out):
                with self.assertRaises(SystemExit) as e:
                    cli.parse_args([arg])
                self.assertEqual(e.exception.code, 0)
                self.assertIn(want, out.getvalue())

    def test_every_option_is_in_the_help(self):
        for name in list(cli.FLAG_OPTIONS) + list(cli.VALUE_OPTIONS):
            with self.subTest(option=name):
                self.assertIn(name, cli.HELP)


if __name__ == "__main__":
    unittest.main()
