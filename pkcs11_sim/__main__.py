"""``python -m pkcs11_sim``: the ``pkcs11-sim`` command line."""

import sys

from .cli import main

sys.exit(main())
