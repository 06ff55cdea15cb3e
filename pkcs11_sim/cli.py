"""Command line of the token simulator (``pkcs11-sim``); its commands arrive with the simulator issue."""

from __future__ import annotations

import sys


def main() -> int:
    """Entry point of ``pkcs11-sim``: reports that the simulator is not built yet."""
    print("pkcs11-sim: the token simulator is not implemented yet", file=sys.stderr)
    return 2
