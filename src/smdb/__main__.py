"""``python -m smdb`` is the ``smdb`` command."""

import sys

from smdb.cli import main

sys.exit(main())
