"""``python -m signagent`` is the ``signagent`` command."""

import sys

from signagent.cli import main

sys.exit(main())
