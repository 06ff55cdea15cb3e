"""``python -m signagent.testpki OUT_DIR [--base-url URL] [--seed SEED] [--serve]``: write the test PKI.

Prints the manifest's path. ``--serve`` then serves the CRLs, CA certificates and OCSP at the base URL's port on
127.0.0.1 until interrupted (Ctrl+C). Exit status 0 on success, 2 on a usage or file error.
"""

from __future__ import annotations

import argparse
import sys
import threading
from urllib.parse import urlsplit

from ..errors import SignAgentError
from .generator import DEFAULT_BASE_URL, generate
from .server import PkiServer


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m signagent.testpki``."""
    parser = argparse.ArgumentParser(prog="python -m signagent.testpki",
                                     description="Generate the GOST test PKI (root, intermediate, end entities, "
                                                 "CRLs, keys, manifest.json).")
    parser.add_argument("out_dir", help="directory to write (created if missing)")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL,
                        help=f"where CRLs, CA certificates and OCSP are served (default {DEFAULT_BASE_URL})")
    parser.add_argument("--seed", help="derive keys and serials from this seed (reproducible PKI)")
    parser.add_argument("--serve", action="store_true", help="then serve OCSP, CRLs and CA certificates on "
                                                            "127.0.0.1 at the base URL's port until interrupted")
    args = parser.parse_args(argv)
    try:
        pki = generate(args.out_dir, base_url=args.base_url, seed=args.seed)
    except SignAgentError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(pki.manifest_path)
    if not args.serve:
        return 0
    port = urlsplit(pki.base_url).port or 80
    try:
        server = PkiServer(pki, port=port)
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    with server:
        print(f"serving {pki.base_url} (Ctrl+C to stop)", file=sys.stderr)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
