#!/usr/bin/env python3
"""check_sarif.py FILE... - each SARIF log the tests produce must validate
against the SARIF 2.1.0 schema (sarif-schema-2.1.0.json beside this file,
with python3-jsonschema) and pass GitHub code scanning's own rule that
every result has a location with an artifact URI.  One line per problem;
exit status 1 when there is any."""
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))


def problems(path, validator):
    with open(path, encoding="utf-8") as f:
        log = json.load(f)
    for error in validator.iter_errors(log):
        where = "/".join(str(p) for p in error.absolute_path)
        yield f"{path}: schema: at /{where}: {error.message[:200]}"
    for run in log.get("runs", []):
        for i, result in enumerate(run.get("results", [])):
            uris = [loc.get("physicalLocation", {}).get("artifactLocation", {})
                    .get("uri") for loc in result.get("locations", [])]
            if not any(uris):
                yield f"{path}: result {i} ({result.get('ruleId')}) has no location"


def main(paths):
    with open(os.path.join(HERE, "sarif-schema-2.1.0.json"), encoding="utf-8") as f:
        validator = jsonschema.Draft7Validator(json.load(f))
    found = [line for path in paths for line in problems(path, validator)]
    for line in found[:50]:
        print(line)
    return 1 if found or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
