"""A test PKI of GOST certificates with real qualified content, CRLs and an OCSP responder, for testers and tests.

* :func:`generate` (``python -m signagent.testpki OUT_DIR``) writes root (512-bit) -> intermediate (256-bit) ->
  end-entity certificates (head, employee, ip, person and the faulty variants), keys, CRLs and a manifest, and
  returns a :class:`TestPKI` with the same objects;
* :class:`OcspResponder` answers RFC 6960 requests from the PKI's revocation data;
* :class:`PkiServer` serves OCSP, the CRLs and the CA certificates on 127.0.0.1, and can be made slow or failing.

The declarative content is in :mod:`.spec`; subjects and extensions per profile in :mod:`.profiles`.
"""

from __future__ import annotations

from .generator import DEFAULT_BASE_URL, DEFAULT_PORT, Issued, IssuedCrl, Revocation, TestPKI, generate
from .ocsp import OcspIssuer, OcspResponder
from .server import PkiServer
from .spec import PROFILES, VARIANTS, CaSpec, EndEntitySpec, Organisation, Person, PkiSpec, SignTools, default_spec

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_PORT",
    "PROFILES",
    "VARIANTS",
    "CaSpec",
    "EndEntitySpec",
    "Issued",
    "IssuedCrl",
    "OcspIssuer",
    "OcspResponder",
    "Organisation",
    "Person",
    "PkiServer",
    "PkiSpec",
    "Revocation",
    "SignTools",
    "TestPKI",
    "default_spec",
    "generate",
]
