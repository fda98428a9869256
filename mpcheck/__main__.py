"""python3 -m mpcheck: the same as the mpcheck command."""

import sys

from .main import main

sys.exit(main(sys.argv[1:]))
