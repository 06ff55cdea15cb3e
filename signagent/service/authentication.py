"""The origin-bound proof of possession a page gets from ``POST /v1/authenticate`` (format ``signagent-auth``,
version 1; docs/API.md "Authentication proof"), and its check for a portal's backend.

The token signs, with the certificate's key (GOST R 34.10-2012, the Streebog of the key's size over the message),

    Streebog-256(origin, UTF-8) || Streebog-256(challenge)

-- 64 bytes. Binding the origin the agent saw (never one the page chose) makes a proof made for one site useless to
another, as Web eID binds its authentication token; the challenge, issued by the portal and used once, makes it
fresh. The signature is s || r (big-endian halves, GOST R 34.10-2012 section 6.1), base64 in the document.

Exports: FORMAT, VERSION, proof_message, proof_document, verify_proof, ProofError.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from signagent.asn1 import oids
from signagent.errors import InvalidInputError
from signagent.gost import streebog256, streebog512
from signagent.x509 import Certificate

__all__ = ["FORMAT", "VERSION", "ProofError", "proof_document", "proof_message", "verify_proof"]

FORMAT = "signagent-auth"
VERSION = 1
#: A challenge shorter than this is refused: 256 bits of the portal's randomness make a proof unique.
MIN_CHALLENGE = 32
MAX_CHALLENGE = 1024


class ProofError(InvalidInputError):
    """An authentication proof that does not hold: wrong format, origin or challenge, or a bad signature."""

    code = "auth_proof_invalid"


def proof_message(origin: str, challenge: bytes) -> bytes:
    """The 64 bytes the token signs for ``origin`` (as the agent normalized it) and ``challenge``."""
    return streebog256(origin.encode("utf-8")).digest() + streebog256(bytes(challenge)).digest()


def _algorithm(certificate: Certificate) -> str:
    size = certificate.public_key().curve.size
    return oids.SIGNWITHDIGEST_2012_512 if size == 64 else oids.SIGNWITHDIGEST_2012_256


def proof_document(*, origin: str, challenge: bytes, certificate: Certificate, signature: bytes) -> dict[str, Any]:
    """The JSON result of an authentication request."""
    b64 = base64.b64encode
    return {"format": FORMAT, "version": VERSION, "origin": origin, "challenge": b64(challenge).decode("ascii"),
            "certificate": b64(certificate.der).decode("ascii"), "certificate_id": certificate.streebog_thumbprint,
            "algorithm": _algorithm(certificate), "signature": b64(signature).decode("ascii")}


def _b64(doc: dict[str, Any], name: str) -> bytes:
    value = doc.get(name)
    if not isinstance(value, str):
        raise ProofError(situation="field", field=name)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProofError(situation="field", field=name) from None


def verify_proof(doc: dict[str, Any], *, origin: str, challenge: bytes) -> Certificate:
    """The certificate whose key made the proof ``doc``, after checking that it is a proof for ``origin`` (the
    portal's own) and ``challenge`` (one the portal issued) and that its signature verifies. The caller still
    validates the certificate's chain and checks the challenge was unused. :class:`ProofError` otherwise."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ProofError(situation="format")
    if doc.get("origin") != origin:
        raise ProofError(situation="origin", got=str(doc.get("origin"))[:100], expected=origin)
    if not hmac.compare_digest(_b64(doc, "challenge"), bytes(challenge)):
        raise ProofError(situation="challenge")
    certificate = Certificate.from_der(_b64(doc, "certificate"))  # strict DER; errors of the tree on garbage
    signature = _b64(doc, "signature")
    key = certificate.public_key()
    if doc.get("algorithm") != _algorithm(certificate):
        raise ProofError(situation="algorithm")
    message = proof_message(origin, challenge)
    digest = (streebog512 if key.curve.size == 64 else streebog256)(message).digest()
    if len(signature) != 2 * key.curve.size or not key.verify_digest(digest, signature):
        raise ProofError(situation="signature")
    return certificate
