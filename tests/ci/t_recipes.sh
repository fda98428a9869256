#!/usr/bin/env bash
# t_recipes.sh - the CI jobs in README.md and docs/ci.md parse and run as
# written (see check_recipes.py).  Needs python3-yaml (TEST_DEPS).
ROOT=${MPWRAP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! python3 -c 'import yaml' 2>/dev/null; then
	echo "not ok 1 - python3-yaml is missing (make test installs it: TEST_DEPS)"
	exit 1
fi
exec python3 "$ROOT/tests/ci/check_recipes.py" "$ROOT"
