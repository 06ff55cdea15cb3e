"""signagent: a local agent for Russian qualified electronic signatures (GOST R 34.10/34.11-2012).

Layers (DESIGN.md section 2), lowest first: errors, gost, asn1, x509, {trust, cms, tokens}, service, api, cli.
"""

__version__ = "0.1.0"
