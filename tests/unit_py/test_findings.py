"""mpcheck.findings: finding keys and fingerprints, grouping across
processes, statuses (suppressed, baseline, new) and the summary."""

import json
import unittest

from mpcheck import findings
from reportdata import aggregate, error, frame, leak, libc, report


def raw(*stack, kind="definite"):
    return {"type": "leak", "kind": kind, "stack": list(stack)}


class Keys(unittest.TestCase):
    def test_key_sees_every_frame_fingerprint_skips_the_runtime(self):
        a = raw(libc("malloc"), frame("f"))
        b = raw(libc("calloc"), frame("f"))
        self.assertNotEqual(findings.finding_key(a), findings.finding_key(b))
        self.assertEqual(findings.fingerprint(a), findings.fingerprint(b))

    def test_fingerprint_ignores_lines_and_addresses(self):
        a = raw(frame("f", line=1, pc="0x1"))
        b = raw(frame("f", line=99, pc="0x2"))
        self.assertEqual(findings.fingerprint(a), findings.fingerprint(b))
        self.assertEqual(findings.finding_key(a), findings.finding_key(b))
        self.assertNotEqual(findings.fingerprint(a),
                            findings.fingerprint(raw(frame("g"))))
        self.assertNotEqual(findings.fingerprint(a), findings.fingerprint(
            raw(frame("f"), kind="indirect")))

    def test_kind_counts_in_a_fixed_order(self):
        import collections
        counts = collections.Counter({"definite": 2, "double-free": 1})
        nbytes = collections.Counter({"definite": 96})
        self.assertEqual(findings.kind_counts(counts, nbytes),
                         "1 double-free, 2 definite leaks (96 bytes)")


class Grouping(unittest.TestCase):
    def test_one_finding_across_processes(self):
        agg = aggregate()
        stack = [libc("malloc"), frame("leaky_init")]
        for pid in (101, 102, 103, 104):
            self.assertTrue(agg.fold(pid, report(pid, [
                leak("definite", 16, *stack)])))
        [f] = agg.listed()
        self.assertEqual((f["processes"], f["occurrences"], f["bytes"]),
                         (4, 4, 64))
        self.assertEqual([e["pid"] for e in f["examples"]], [101, 102, 103])
        s = agg.summary(0)
        self.assertEqual((s["leaks"], s["findings"], s["occurrences"],
                          s["gate"]), (1, 1, 4, "FAIL"))

    def test_leak_kinds_not_gated_are_left_out(self):
        agg = aggregate()
        self.assertFalse(agg.fold(1, report(1, [
            leak("possible", 8, frame("p")), leak("reachable", 8, frame("r"))])))
        self.assertEqual(agg.listed(), [])
        self.assertEqual(agg.summary(0)["gate"], "PASS")

    def test_suppressed_baseline_and_new(self):
        agg = aggregate(suppressions=["leak:quiet_fn"],
                        baseline=["leak:known_fn"])
        agg.fold(1, report(1, [leak("definite", 8, frame("quiet_fn")),
                               leak("definite", 8, frame("known_fn")),
                               leak("definite", 8, frame("new_fn"))],
                           [error("double-free", frame("free_twice"))]))
        by = {f["kind"] + ":" + f["fingerprint"][:4]: f
              for f in agg.listed()}
        self.assertEqual(len(by), 4)
        status = sorted((f["suppressed"], f["baseline"], f["kind"])
                        for f in agg.listed())
        self.assertEqual(status, [(False, False, "definite"),
                                  (False, False, "double-free"),
                                  (False, True, "definite"),
                                  (True, False, "definite")])
        s = agg.summary(0)
        self.assertEqual((s["errors"], s["leaks"], s["suppressed"],
                          s["baseline"]), (1, 1, 1, 1))
        # errors first in the listing, then leaks
        self.assertEqual(agg.listed()[0]["kind"], "double-free")

    def test_system_programs_leaks_do_not_gate(self):
        agg = aggregate()
        agg.fold(1, report(1, [leak("definite", 8,
                                    frame("x", "/usr/bin/make"))]))
        self.assertEqual(agg.summary(0)["gate"], "PASS")
        agg = aggregate(["--system-leaks"])
        agg.fold(1, report(1, [leak("definite", 8,
                                    frame("x", "/usr/bin/make"))]))
        self.assertEqual(agg.summary(0)["gate"], "FAIL")

    def test_baseline_out_never_fails(self):
        agg = aggregate(["--baseline-out", "b"])
        agg.fold(1, report(1, [leak("definite", 8, frame("f"))]))
        self.assertEqual(agg.summary(0)["gate"], "SKIPPED")

    def test_capped_process_counts_what_it_leaves_out(self):
        data = report(1, [leak("definite", n, frame(f"f{n}"))
                          for n in (1, 5, 3)])
        data["environ"] = ["SECRET=1"]
        entry = findings.capped_process(data, 2)
        self.assertEqual([x["bytes"] for x in entry["leaks"]], [5, 3])
        self.assertEqual(entry["leaks_not_listed"],
                         {"groups": 1, "bytes": 1, "blocks": 1})
        self.assertNotIn("environ", entry)


class Tests(unittest.TestCase):
    """Findings attributed to the test names the processes carry."""

    @staticmethod
    def named(pid, test, leaks=()):
        data = report(pid, leaks)
        if test is not None:
            data["test"] = {"name": test, "from": "MPWRAP_TEST_NAME"}
        return data

    def test_test_of_reads_the_name_and_nothing_else(self):
        self.assertEqual(findings.test_of(self.named(1, "t1")), "t1")
        for bad in (None, "t1", {"name": ""}, {"name": 3}, {}):
            self.assertIsNone(findings.test_of(dict(report(1), test=bad)))
        self.assertIsNone(findings.test_of(report(1)))

    def test_leak_attributed_to_its_tests_only(self):
        agg = aggregate()
        stack = [libc("malloc"), frame("leaky")]
        agg.fold(1, self.named(1, "clean_a"))
        agg.fold(2, self.named(2, "leaky_b", [leak("definite", 8, *stack)]))
        agg.fold(3, self.named(3, "leaky_b", [leak("definite", 8, *stack)]))
        agg.fold(4, self.named(4, "clean_c"))
        agg.fold(5, self.named(5, None, [leak("definite", 8, *stack)]))
        agg.fold(6, self.named(6, "quiet_d",
                               [leak("possible", 8, frame("p"))]))
        [f] = agg.listed()
        self.assertEqual(f["tests"], ["leaky_b"])
        self.assertEqual([e.get("test") for e in f["examples"]],
                         ["leaky_b", "leaky_b", None])
        s = agg.summary(0)
        self.assertEqual((s["tests"], s["tests_with_findings"],
                          s["failing_tests"]), (4, 1, ["leaky_b"]))

    def test_scope_leak_names_its_own_test(self):
        # a runner process ("all_tests") whose scopes (mp_scope_end) found
        # a leak in Suite.A; its exit scan found another, of no scope
        scoped = dict(leak("definite", 8, frame("a")), test="Suite.A")
        plain = leak("definite", 16, frame("b"))
        bad = dict(leak("definite", 4, frame("c")), test=7)
        agg = aggregate()
        agg.fold(1, self.named(1, "all_tests", [scoped, plain, bad]))
        by_fn = {json.loads(f["stack"])[0]["function"]: f["tests"]
                 for f in agg.listed()}
        self.assertEqual(by_fn, {"a": ["Suite.A"], "b": ["all_tests"],
                                 "c": ["all_tests"]})
        s = agg.summary(0)
        self.assertEqual((s["tests"], s["failing_tests"]),
                         (2, ["Suite.A", "all_tests"]))

    def test_test_lines(self):
        self.assertEqual(findings.test_lines([], 0), [])
        self.assertEqual(findings.test_lines([], 212),
                         ["findings in 0 of 212 tests"])
        self.assertEqual(findings.test_lines(["a", "b", "c"], 212),
                         ["findings in 3 of 212 tests: a, b, c"])
        self.assertEqual(findings.test_lines(["a", "b", "c"], 3, limit=2),
                         ["findings in 3 of 3 tests: a, b and 1 more"])
        self.assertEqual(findings.test_lines(["a"], 1),
                         ["findings in 1 of 1 test: a"])


if __name__ == "__main__":
    unittest.main()
