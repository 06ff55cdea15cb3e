"""OIDs and ASN.1 structures missing from asn1crypto: GOST keys and parameters, Russian attributes, CAdES.

Importing this package registers the GOST algorithms and the Russian qualified-certificate attributes and
extensions with asn1crypto (see :mod:`signagent.asn1.gost` and :mod:`signagent.asn1.russian`), so that every
certificate, CRL and CMS structure of the state PKI parses completely.
"""

from __future__ import annotations

from . import gost, oids, russian

gost.register()
russian.register()

__all__ = ["gost", "oids", "russian"]
