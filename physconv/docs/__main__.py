"""``python -m physconv.docs [--out DIR] [--quick]``: see :mod:`physconv.docs.build`."""

import sys

from .build import main

if __name__ == "__main__":
    sys.exit(main())
