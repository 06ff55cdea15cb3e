"""An OCSP responder for tests (RFC 6960): good / revoked / unknown from the test PKI's revocation data.

:class:`OcspResponder` turns a DER OCSPRequest into a DER OCSPResponse. Each request entry (CertID) is matched to a
known CA by the hash of its name and key, computed with the hash algorithm the request names (SHA-1 as OpenSSL
sends by default, SHA-2 or Streebog); the answer is

* ``revoked`` with the revocation time and reason when the serial is on the CA's revocation list,
* ``good`` when the CA issued that serial (or when ``unknown_serials_good`` is set),
* ``unknown`` otherwise.

The BasicOCSPResponse is signed by the CA itself or by a delegated responder certificate (id-kp-OCSPSigning,
RFC 6960 section 4.2.2.2) and carries the signer's certificate; a request nonce is echoed (section 4.4.1). A
request that cannot be parsed gets ``malformedRequest``; one whose CA is not known gets ``unauthorized``
(RFC 5019 section 2.2.3).

Exports: OcspIssuer, OcspResponder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from asn1crypto import core, ocsp, x509

from ..gost import PrivateKey, streebog256, streebog512
from ..x509 import builder as b
from .generator import Revocation, TestPKI

__all__ = ["OcspIssuer", "OcspResponder"]

_HASHES: dict[str, Callable[[bytes], bytes]] = {
    "sha1": lambda data: hashlib.sha1(data).digest(),  # noqa: S324  (RFC 6960's default CertID hash)
    "sha224": lambda data: hashlib.sha224(data).digest(),
    "sha256": lambda data: hashlib.sha256(data).digest(),
    "sha384": lambda data: hashlib.sha384(data).digest(),
    "sha512": lambda data: hashlib.sha512(data).digest(),
    "streebog256": lambda data: streebog256(data).digest(),
    "streebog512": lambda data: streebog512(data).digest(),
}


@dataclass
class OcspIssuer:
    """A CA the responder answers for: its certificate and key, what it revoked and (optionally) what it issued.

    ``signer_cert``/``signer_key``: a delegated responder; without them the CA's own key signs.
    ``issued``: serials the CA issued; None means every serial not revoked is ``good``.
    """

    certificate: x509.Certificate
    key: PrivateKey
    revoked: dict[int, Revocation] = field(default_factory=dict)
    issued: set[int] | None = None
    signer_cert: x509.Certificate | None = None
    signer_key: PrivateKey | None = None

    def __post_init__(self) -> None:
        tbs = self.certificate["tbs_certificate"]
        self._name_der = tbs["subject"].dump()
        self._key_bits = tbs["subject_public_key_info"]["public_key"].contents[1:]  # RFC 6960 4.1.1: no unused bits
        self._cache: dict[str, tuple[bytes, bytes]] = {}

    def hashes(self, algorithm: str) -> tuple[bytes, bytes]:
        """(issuerNameHash, issuerKeyHash) with the named hash algorithm."""
        if algorithm not in self._cache:
            fn = _HASHES[algorithm]
            self._cache[algorithm] = (fn(self._name_der), fn(self._key_bits))
        return self._cache[algorithm]


def _status(name: str, revocation: Revocation | None = None) -> ocsp.CertStatus:
    if revocation is None:
        return ocsp.CertStatus(name=name, value=core.Null())
    info: dict[str, object] = {"revocation_time": revocation.revoked_at}
    if revocation.reason:
        info["revocation_reason"] = revocation.reason
    return ocsp.CertStatus(name="revoked", value=ocsp.RevokedInfo(info))


def _error(status: str) -> bytes:
    return ocsp.OCSPResponse({"response_status": status}).dump()


class OcspResponder:
    """Answers OCSP requests for a set of CAs. ``clock`` gives the response times (default: the current time)."""

    def __init__(self, issuers: Iterable[OcspIssuer], *, clock: Callable[[], datetime] | None = None,
                 validity: timedelta = timedelta(hours=1), unknown_serials_good: bool = False) -> None:
        self.issuers = list(issuers)
        self.clock = clock or (lambda: datetime.now(UTC).replace(microsecond=0))
        self.validity = validity
        self.unknown_serials_good = unknown_serials_good

    @classmethod
    def for_pki(cls, pki: TestPKI, *, delegated: bool = False, **kwargs: object) -> OcspResponder:
        """A responder for the test PKI: the intermediate CA (its end entities) and the root (the intermediate).

        ``delegated=True`` signs the intermediate's answers with the PKI's OCSP responder certificate.
        """
        def issuer(ca_name: str) -> OcspIssuer:
            ca = pki[ca_name]
            signer = pki.ocsp_responder if delegated and ca is pki.intermediate else None
            return OcspIssuer(
                ca.certificate, ca.key, dict(pki.revocations.get(ca_name, {})),
                {c.serial for c in pki.issued_by(ca_name)},
                signer.certificate if signer else None, signer.key if signer else None,
            )

        return cls([issuer(pki.intermediate.name), issuer(pki.root.name)], **kwargs)  # type: ignore[arg-type]

    def _find(self, algorithm: str, name_hash: bytes, key_hash: bytes) -> OcspIssuer | None:
        if algorithm not in _HASHES:
            return None
        for issuer in self.issuers:
            if issuer.hashes(algorithm) == (name_hash, key_hash):
                return issuer
        return None

    def _answer(self, issuer: OcspIssuer, serial: int) -> ocsp.CertStatus:
        revocation = issuer.revoked.get(serial)
        if revocation is not None:
            return _status("revoked", revocation)
        if self.unknown_serials_good or issuer.issued is None or serial in issuer.issued:
            return _status("good")
        return _status("unknown")

    def respond(self, request_der: bytes) -> bytes:
        """The DER OCSPResponse for a DER OCSPRequest (never raises for bad input: it answers malformedRequest)."""
        try:
            request = ocsp.OCSPRequest.load(bytes(request_der))
            tbs = request["tbs_request"]
            entries = []
            for item in tbs["request_list"]:
                cert_id = item["req_cert"]
                entries.append((cert_id, cert_id["hash_algorithm"]["algorithm"].native,
                                cert_id["issuer_name_hash"].native, cert_id["issuer_key_hash"].native,
                                cert_id["serial_number"].native))
            nonce = None
            for ext in tbs["request_extensions"] or []:
                if ext["extn_id"].native == "nonce":
                    nonce = ext["extn_value"].parsed.native
        except (ValueError, TypeError, KeyError):  # asn1crypto's errors for bad DER are ValueError subclasses
            return _error("malformed_request")
        if not entries:
            return _error("malformed_request")

        now = self.clock()
        singles = []
        signer: OcspIssuer | None = None
        for cert_id, algorithm, name_hash, key_hash, serial in entries:
            issuer = self._find(algorithm, name_hash, key_hash)
            if issuer is None:
                return _error("unauthorized")
            signer = signer or issuer
            singles.append(ocsp.SingleResponse({
                "cert_id": cert_id,
                "cert_status": self._answer(issuer, serial),
                "this_update": now,
                "next_update": now + self.validity,
            }))
        assert signer is not None
        return self._sign(signer, singles, nonce, now)

    def _sign(self, issuer: OcspIssuer, singles: list[ocsp.SingleResponse], nonce: bytes | None,
              now: datetime) -> bytes:
        cert = issuer.signer_cert or issuer.certificate
        key = issuer.signer_key or issuer.key
        data: dict[str, object] = {
            "responder_id": ocsp.ResponderId(name="by_key", value=b.key_identifier(cert.public_key)),
            "produced_at": now,
            "responses": singles,
        }
        if nonce is not None:
            data["response_extensions"] = [{"extn_id": "nonce", "critical": False, "extn_value": nonce}]
        # Loaded back from DER so that the enclosing structures reuse its encoding instead of re-encoding it.
        response_data = ocsp.ResponseData.load(ocsp.ResponseData(data).dump())
        basic = ocsp.BasicOCSPResponse({
            "tbs_response_data": response_data,
            "signature_algorithm": {"algorithm": b.signature_algorithm_oid(key)},
            "signature": b.sign_der(key, response_data.dump()),
            "certs": [cert],
        })
        return ocsp.OCSPResponse({
            "response_status": "successful",
            "response_bytes": {"response_type": "basic_ocsp_response", "response": basic},
        }).dump()
