#!/usr/bin/env python3
"""check_recipes.py ROOT - the CI jobs in README.md and docs/ci.md run as
written: each ```yaml block parses (python3-yaml), GitHub Actions steps have
the shapes GitHub's workflow schema allows (one of `uses`/`run`, `with` only
on `uses`, known keys), GitLab jobs have a `script` and no GitHub keys,
every shell script parses (sh -n / bash -n), every mpcheck option exists,
the apt-get line installs every package the Makefile needs, a vendored
checker is checked out with its submodule and the SARIF upload is guarded.
Prints TAP; a fixture of known-bad recipes checks that the checker fails."""
import os
import re
import subprocess
import sys

import yaml

WORKFLOW_KEYS = {"name", "on", "permissions", "jobs", "env", "concurrency",
                 "defaults", "run-name"}
JOB_KEYS = {"runs-on", "steps", "permissions", "name", "needs", "if", "env",
            "timeout-minutes", "strategy", "container", "services",
            "defaults", "outputs", "continue-on-error", "concurrency",
            "environment"}
STEP_KEYS = {"name", "id", "if", "uses", "run", "with", "env", "shell",
             "working-directory", "continue-on-error", "timeout-minutes"}
GITLAB_RESERVED = {"stages", "variables", "default", "include", "workflow",
                   "image", "services", "cache", "before_script",
                   "after_script"}
GITLAB_JOB_KEYS = {"stage", "image", "variables", "before_script", "script",
                   "after_script", "artifacts", "rules", "needs", "cache",
                   "tags", "timeout", "services", "allow_failure", "when"}


def make_packages(root, variable):
    """Package names of a `VAR := pkg:file ...` list in the Makefile."""
    text = open(os.path.join(root, "Makefile"), encoding="utf-8").read()
    match = re.search(rf"^{variable} :=((?:.*\\\n)*.*)$", text, re.M)
    return {spec.split(":")[0] for spec in match.group(1).replace("\\\n", " ").split()}


def yaml_blocks(path):
    text = open(path, encoding="utf-8").read()
    return re.findall(r"^```yaml\n(.*?)^```", text, re.S | re.M)


def installed(scripts):
    """Packages named on the apt-get install lines of the scripts."""
    words = set()
    for script in scripts:
        joined = script.replace("\\\n", " ")
        for match in re.finditer(r"apt-get install ([^\n]*)", joined):
            words |= {w for w in match.group(1).split() if not w.startswith("-")}
    return words


def shell_problems(script, shell):
    run = subprocess.run([shell, "-n"], input=script, text=True,
                         capture_output=True)
    return [f"{shell} -n: {run.stderr.strip()}"] if run.returncode else []


def option_problems(scripts, help_text):
    used = set()
    for script in scripts:
        for line in script.replace("\\\n", " ").splitlines():
            if "mpcheck" in line or "set --" in line:
                used |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", line))
    return [f"mpcheck has no option {o}" for o in sorted(used)
            if o not in help_text]


def package_problems(scripts, needed):
    missing = needed - installed(scripts)
    return [f"apt-get install lacks {' '.join(sorted(missing))}"] if missing else []


def github_problems(doc, needs, help_text):
    problems = []
    on = doc.get("on", doc.get(True))       # YAML 1.1 reads `on` as true
    if on is None:
        problems.append("no `on:` trigger")
    extra = {str(k) for k in doc if k is not True} - WORKFLOW_KEYS
    problems += [f"unknown workflow key {k}" for k in sorted(extra)]
    if not isinstance(doc.get("jobs"), dict) or not doc["jobs"]:
        return problems + ["no jobs"]
    for name, job in doc["jobs"].items():
        problems += [f"{name}: unknown job key {k}" for k in set(job) - JOB_KEYS]
        if "runs-on" not in job:
            problems.append(f"{name}: no runs-on")
        steps = job.get("steps") or []
        scripts = [s["run"] for s in steps if isinstance(s, dict) and "run" in s]
        for i, step in enumerate(steps):
            where = f"{name}: step {i + 1}"
            if not isinstance(step, dict):
                problems.append(f"{where}: not a mapping")
                continue
            problems += [f"{where}: unknown key {k}" for k in set(step) - STEP_KEYS]
            if ("uses" in step) == ("run" in step):
                problems.append(f"{where}: needs exactly one of uses and run")
            if "with" in step and "uses" not in step:
                problems.append(f"{where}: `with` on a step without `uses`")
            if "shell" in step and "run" not in step:
                problems.append(f"{where}: `shell` on a step without `run`")
            uses = step.get("uses", "")
            if uses and "@" not in uses:
                problems.append(f"{where}: {uses} has no @version")
            if "run" in step:
                problems += [f"{where}: {p}" for p in shell_problems(step["run"], "bash")]
            if uses.startswith("github/codeql-action/upload-sarif"):
                guard = str(step.get("if", ""))
                for need in ("always()", "hashFiles(", "head.repo.full_name"):
                    if need not in guard:
                        problems.append(f"{where}: SARIF upload not guarded by {need}")
                perms = {**(doc.get("permissions") or {}), **(job.get("permissions") or {})}
                if perms.get("security-events") != "write":
                    problems.append(f"{where}: SARIF upload without security-events: write")
        if any("tools/mpwrap/" in s for s in scripts):
            checkout = [s for s in steps if isinstance(s, dict) and
                        str(s.get("uses", "")).startswith("actions/checkout@")]
            if not checkout or not (checkout[0].get("with") or {}).get("submodules"):
                problems.append(f"{name}: vendored tools/mpwrap but checkout without submodules")
        problems += [f"{name}: {p}" for p in package_problems(scripts, needs(scripts))]
        problems += [f"{name}: {p}" for p in option_problems(scripts, help_text)]
    return problems


def gitlab_problems(doc, needs, help_text):
    problems = []
    jobs = {k: v for k, v in doc.items() if k not in GITLAB_RESERVED}
    if not jobs:
        return ["no jobs"]
    for name, job in jobs.items():
        if not isinstance(job, dict) or not isinstance(job.get("script"), list):
            problems.append(f"{name}: no script list")
            continue
        problems += [f"{name}: unknown job key {k}" for k in set(job) - GITLAB_JOB_KEYS]
        scripts = [str(line) for key in ("before_script", "script")
                   for line in job.get(key, [])]
        for line in scripts:
            problems += [f"{name}: {p}" for p in shell_problems(line, "sh")]
        problems += [f"{name}: {p}" for p in package_problems(scripts, needs(scripts))]
        problems += [f"{name}: {p}" for p in option_problems(scripts, help_text)]
        if (job.get("artifacts") or {}).get("when") != "always":
            problems.append(f"{name}: artifacts not kept when the gate fails")
    return problems


def recipe_problems(block, needs, help_text):
    try:
        doc = yaml.safe_load(block)
    except yaml.YAMLError as e:
        return [f"YAML: {str(e).splitlines()[0]}"]
    if not isinstance(doc, dict):
        return ["not a mapping"]
    check = github_problems if "jobs" in doc else gitlab_problems
    return check(doc, needs, help_text)


BROKEN = """\
jobs:
  leak-gate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: sudo apt-get install -y libunwind-dev
        with: { submodules: true }
      - run: tools/mpwrap/scripts/mpcheck --sarif x --bogus -- make check
      - uses: github/codeql-action/upload-sarif@v3
        if: always()
"""


class Tap:
    """Numbered TAP lines; a test fails with its list of problems."""

    def __init__(self):
        self.n = self.failed = 0

    def report(self, name, problems):
        self.n += 1
        self.failed += bool(problems)
        print(f"{'not ok' if problems else 'ok'} {self.n} - {name}")
        for p in problems:
            print(f"#   {p}")


def main(root):
    help_text = subprocess.run([os.path.join(root, "scripts/mpcheck"), "--help"],
                               capture_output=True, text=True).stdout
    library = make_packages(root, "DEPS") | {"build-essential"}
    suite = library | make_packages(root, "TEST_DEPS")

    def needs(scripts):
        # this repository's own `make test` needs the test packages too
        return suite if any("make test" in s for s in scripts) else library

    tap = Tap()
    counts = {}
    for name in ("README.md", "docs/ci.md"):
        for i, block in enumerate(yaml_blocks(os.path.join(root, name))):
            kind = "GitHub" if "jobs:" in block else "GitLab"
            counts[name, kind] = counts.get((name, kind), 0) + 1
            tap.report(f"{name} yaml block {i + 1} ({kind}) runs as written",
                       recipe_problems(block, needs, help_text))
    want = {("README.md", "GitHub"): 1, ("docs/ci.md", "GitHub"): 3,
            ("docs/ci.md", "GitLab"): 1}
    tap.report(f"recipes found: {counts}",
               [] if counts == want else [f"expected {want}"])
    found = recipe_problems(BROKEN, needs, help_text)
    expected = ["`with` on a step without `uses`", "mpcheck has no option --bogus",
                "without submodules", "apt-get install lacks",
                "not guarded by head.repo.full_name", "no `on:` trigger"]
    tap.report(f"a broken recipe is rejected for each of its {len(expected)} faults",
               [f"not caught: {e}" for e in expected
                if not any(e in p for p in found)])
    print(f"1..{tap.n}")
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
