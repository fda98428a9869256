"""mpcheck.htmldata and mpcheck.html: frames interned once, sites as
numbers, source lines around a frame's line, bounds on groups and sites,
hostile values ignored, and a page whose data blob cannot end its
<script> element early and parses back."""

import io
import json
import os
import re
import tempfile
import unittest

from mpcheck import html, htmldata
from reportdata import aggregate, frame, leak, report


def site(peak, *stack, left=None):
    return {"allocations": 2, "bytes": 2 * peak or 16, "peak_bytes": peak,
            "live_bytes": 0, "live_blocks": 0,
            "temporary": {"allocations": 1, "bytes": 8},
            "left": left or {}, "stack": list(stack)}


class HtmlData(unittest.TestCase):
    def data(self):
        return htmldata.HtmlData(io.StringIO())

    def entries(self, d):
        return [json.loads(l) for l in d.spool.getvalue().splitlines()]

    def test_frames_interned_sites_as_numbers(self):
        d = self.data()
        r = report(7, [leak("definite", 40, frame("leaky"), frame("main"))])
        r["profile"] = {"sites": [
            site(100, frame("leaky"), frame("main")),
            site(5, frame("other"), frame("main"),
                 left={"definite": {"bytes": 40, "blocks": 1},
                       "reachable": {"bytes": 9, "blocks": 1}})],
            "series": {"points": [[1, 2, 3], "bad", [4, 5]]}}
        d.add(7, r)
        e, = self.entries(d)
        self.assertEqual(len(d.frames), 3)      # leaky, main, other
        self.assertEqual(d.frames[0][0], "leaky")
        self.assertEqual(e["sites"][0], [[0, 1], 2, 200, 100, 0, 1, 8, 0])
        self.assertEqual(e["sites"][1][7], 40)  # definite counts, reachable not
        self.assertEqual(e["series"], [[1, 2, 3]])
        self.assertEqual(e["leaks"][0]["stack"], [0, 1])

    def test_source_around_the_line(self):
        with tempfile.TemporaryDirectory() as cwd:
            with open(os.path.join(cwd, "a.c"), "w") as f:
                f.write("".join("line %d\n" % i for i in range(1, 21)))
            d = self.data()
            r = report(1, [leak("definite", 8, frame("f", file="a.c",
                                                      line=10))])
            r["cwd"] = cwd
            d.add(1, r)
            first, lines = d.source[0]
            self.assertEqual(first, 7)
            self.assertEqual(lines[10 - first], "line 10")
            self.assertEqual(len(lines), 7)
            r = report(2, [leak("definite", 8, frame("g", file="gone.c"))])
            d.add(2, r)                         # unreadable: no snippet
            self.assertNotIn(1, d.source)

    def test_bounds_and_hostile_values(self):
        d = self.data()
        old = htmldata.MAX_GROUPS, htmldata.MAX_SITES
        budget = htmldata.SITES_BUDGET, htmldata.SITES_PAST_BUDGET
        htmldata.MAX_GROUPS, htmldata.MAX_SITES = 2, 2
        htmldata.SITES_BUDGET, htmldata.SITES_PAST_BUDGET = 2, 1
        try:
            r = report(3, [leak("definite", n, frame("f%d" % n))
                           for n in (1, 5, 3)])
            r["profile"] = {"sites": [site(p, frame("s%d" % p))
                                      for p in (1, 9, 4)]}
            r["stats"] = "x"
            r["summary"] = {"leaks": [1]}
            d.add(3, r)
            d.add(4, report(4))                 # no profile: nothing counted
            r["pid"] = 5
            d.add(5, r)                         # past the budget: 1 site
        finally:
            htmldata.MAX_GROUPS, htmldata.MAX_SITES = old
            htmldata.SITES_BUDGET, htmldata.SITES_PAST_BUDGET = budget
        e, _, e5 = self.entries(d)
        self.assertEqual([s[3] for s in e5["sites"]], [9])
        self.assertEqual(e5["sites_not_listed"], 2)
        self.assertEqual([g["bytes"] for g in e["leaks"]], [5, 3])
        self.assertEqual(e["leaks_not_listed"], 1)
        self.assertEqual([s[3] for s in e["sites"]], [9, 4])
        self.assertEqual(e["sites_not_listed"], 1)
        self.assertEqual(e["peak"], 0)
        self.assertEqual(e["leak_totals"], {})


class Page(unittest.TestCase):
    def test_blob_cannot_end_the_script(self):
        agg = aggregate(["--html", "x.html"])
        with tempfile.TemporaryDirectory() as tmp:
            spool_path = os.path.join(tmp, "s.jsonl")
            with open(spool_path, "w") as spool:
                agg.html = htmldata.HtmlData(spool)
                agg.fold(5, report(5, [leak("definite", 8, frame(
                    "</script><b>x"))], command="./app </script>"))
                out = io.StringIO()
                html.write_html(out, agg.listed(), agg.html, spool_path,
                                agg.summary(0), ["./app", "</script>"])
        page = out.getvalue()
        self.assertTrue(page.startswith("<!DOCTYPE html>\n<!-- mpcheck --html"))
        blob = re.search(r'<script type="application/json" id="data">'
                         r'(.*?)</script>', page, re.S).group(1)
        data = json.loads(blob)
        self.assertEqual(data["processes"][0]["command"], "./app </script>")
        self.assertEqual(data["frames"][0][0], "</script><b>x")
        self.assertEqual(data["findings"][0]["stack"], [0])
        self.assertNotIn("http://", page.replace("http://www.w3.org", ""))
        self.assertNotIn("@DATA@", page)
        self.assertNotIn("@SCRIPT@", page)


if __name__ == "__main__":
    unittest.main()
