"""``python -m portal``: the same as the ``portal`` command (``portal serve ...``)."""

import sys

from .cli import main

sys.exit(main())
