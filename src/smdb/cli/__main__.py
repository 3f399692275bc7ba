"""``python -m smdb.cli``: the ``smdb`` command."""

import sys

from smdb.cli import main

sys.exit(main())
