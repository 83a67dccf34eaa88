"""Entry point of ``python -m skgen``."""

import sys

from skgen._demo import main

if __name__ == "__main__":
    sys.exit(main())
