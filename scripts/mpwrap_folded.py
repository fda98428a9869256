#!/usr/bin/env python3
"""mpwrap_folded.py - folded stacks (flame-graph input) from the heap profile
of mpwrap JSON reports (MPWRAP_OPTIONS=profile=1).  A launcher of
mpcheck.flame (see its docstring), found as scripts/mpcheck finds its
package: in the checkout or where `make install` put it."""

import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
for _top in (os.path.dirname(HERE),
             os.path.join(os.path.dirname(HERE), "lib", "mpwrap", "python")):
    if os.path.isfile(os.path.join(_top, "mpcheck", "flame.py")):
        sys.path.insert(0, _top)
        break
else:
    print("mpwrap_folded: the mpcheck package is not beside it", file=sys.stderr)
    sys.exit(2)

from mpcheck.flame import (  # noqa: E402,F401  (found above; the API)
    MEASURES, folded_from_reports, folded_lines, frame_name, main,
    site_value)

if __name__ == "__main__":
    sys.exit(main())
