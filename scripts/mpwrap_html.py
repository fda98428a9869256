#!/usr/bin/env python3
"""mpwrap_html.py - one self-contained HTML report from
mpwrap JSON reports (profile=1 for the flame graph).  A launcher of
mpcheck.html (see its docstring), found as scripts/mpcheck finds its
package: in the checkout or where `make install` put it."""

import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
for _top in (os.path.dirname(HERE),
             os.path.join(os.path.dirname(HERE), "lib", "mpwrap", "python")):
    if os.path.isfile(os.path.join(_top, "mpcheck", "html.py")):
        sys.path.insert(0, _top)
        break
else:
    print("mpwrap_html: the mpcheck package is not beside it", file=sys.stderr)
    sys.exit(2)

from mpcheck.html import main, write_html  # noqa: E402,F401  (found above)

if __name__ == "__main__":
    sys.exit(main())
