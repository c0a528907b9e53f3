"""`python -m ledgercore`: the `ledgercore` command."""

import sys

from ledgercore.cli import main

if __name__ == "__main__":
    sys.exit(main())
