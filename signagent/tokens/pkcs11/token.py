"""One token in a slot of a PKCS#11 module: a :class:`signagent.tokens.protocol.Token`.

Reading: the token's info (CK_TOKEN_INFO: label, serial, model, the PIN counter flags), its mechanisms, its X.509
certificate objects (CKO_CERTIFICATE -> :class:`signagent.x509.Certificate`) with their key pairs matched by CKA_ID,
and its GOST public key objects. Signing: :mod:`.signer`, with the :class:`~signagent.tokens.protocol.TokenKey` a
listing found. Managing: key-pair generation (C_GenerateKeyPair), certificate import and object deletion.

Every call runs through the token's :class:`~.session.TokenSession` (slot lock, presence check, the cached
session, login and logout around operations that need the PIN).

Exports: Pkcs11Token.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from asn1crypto import core

from signagent.asn1.oids import STREEBOG256, STREEBOG512
from signagent.errors import InvalidTypeError, SignAgentError
from signagent.gost import PublicKey, curve
from signagent.x509 import Certificate

from ..errors import KeyNotFoundError, MechanismUnsupportedError, TokenError
from ..protocol import PinProvider, TokenCertificate, TokenInfo, TokenKey, cert_id_of
from ..signer import KeyPairSigner, TokenSigner
from . import signer as signing
from .binding import PyKCS11
from .constants import (
    CKA_CERTIFICATE_TYPE,
    CKA_CLASS,
    CKA_EXTRACTABLE,
    CKA_GOSTR3410_PARAMS,
    CKA_GOSTR3411_PARAMS,
    CKA_ID,
    CKA_ISSUER,
    CKA_KEY_TYPE,
    CKA_LABEL,
    CKA_PRIVATE,
    CKA_SENSITIVE,
    CKA_SERIAL_NUMBER,
    CKA_SIGN,
    CKA_SUBJECT,
    CKA_TOKEN,
    CKA_VALUE,
    CKA_VERIFY,
    CKC_X_509,
    CKF_USER_PIN_COUNT_LOW,
    CKF_USER_PIN_FINAL_TRY,
    CKF_USER_PIN_LOCKED,
    CKK_GOSTR3410,
    CKK_GOSTR3410_512,
    CKM_GOSTR3410_512_KEY_PAIR_GEN,
    CKM_GOSTR3410_KEY_PAIR_GEN,
    CKO_CERTIFICATE,
    CKO_PRIVATE_KEY,
    CKO_PUBLIC_KEY,
    padded_text,
)
from .guards import keep_locale
from .session import TokenSession

if TYPE_CHECKING:
    from .module import Pkcs11Module

__all__ = ["Pkcs11Token"]


def _certificate_or_none(der: bytes) -> Certificate | None:
    try:
        return Certificate.from_der_cached(der)
    except SignAgentError:
        return None


class Pkcs11Token:
    """A token in a slot of a :class:`~.module.Pkcs11Module` (the :class:`~signagent.tokens.protocol.Token`
    protocol)."""

    kind = "pkcs11"

    def __init__(self, module: Pkcs11Module, slot: int, info: Any) -> None:
        self.module = module
        self.slot = int(slot)
        self._mechanisms: set[int] | None = None
        self.refresh(info)
        #: The token's session side: slot lock, presence, the cached session, login per operation.
        self.session = TokenSession(self)

    # --- identity ---------------------------------------------------------------------------------------------

    def refresh(self, info: Any) -> None:
        """Take label, serial, model, manufacturer and flags from a CK_TOKEN_INFO just read."""
        self._label = padded_text(info.label.encode())
        self._serial = padded_text(info.serialNumber.encode())
        self._model = padded_text(info.model.encode())
        self._manufacturer = padded_text(info.manufacturerID.encode())
        self._flags = int(info.flags)

    @property
    def label(self) -> str:
        """The token label (CK_TOKEN_INFO.label, blanks stripped)."""
        return self._label

    @property
    def serial(self) -> str:
        """The token serial number."""
        return self._serial

    @property
    def model(self) -> str:
        """The token model."""
        return self._model

    def info(self) -> TokenInfo:
        """Label, serial, model, module path, slot and the PIN counter flags as last read."""
        return TokenInfo(label=self._label, serial=self._serial, model=self._model, manufacturer=self._manufacturer,
                         source=self.module.path, slot=self.slot,
                         pin_count_low=bool(self._flags & CKF_USER_PIN_COUNT_LOW),
                         pin_final_try=bool(self._flags & CKF_USER_PIN_FINAL_TRY),
                         pin_locked=bool(self._flags & CKF_USER_PIN_LOCKED))

    def __repr__(self) -> str:
        return f"Pkcs11Token(label={self._label!r}, serial={self._serial!r}, slot={self.slot})"

    # --- reading ------------------------------------------------------------------------------------------------

    def mechanisms(self) -> set[int]:
        """The mechanism numbers the token supports (read once per token object)."""
        if self._mechanisms is None:
            with self.session.lock, keep_locale():
                self.session.check_present()
                # the low-level call: PyKCS11's getMechanismList returns names (and adds an entry of its own)
                numbers = PyKCS11.LowLevel.ckulonglist()
                rv = self.session.lib().lib.C_GetMechanismList(self.slot, numbers)
                if rv != 0:
                    raise self.session.fail(PyKCS11.PyKCS11Error(rv), "C_GetMechanismList")
                self._mechanisms = {int(m) for m in numbers}
        return set(self._mechanisms)

    def certificates(self) -> list[TokenCertificate]:
        """Every X.509 certificate object on the token (unreadable ones are skipped), with its key pair's presence:
        a public or private key object with the same CKA_ID (private keys are usually hidden before login, so a
        public key of the pair counts)."""
        with self.session.operation() as calls:
            certs = calls.find([(CKA_CLASS, CKO_CERTIFICATE), (CKA_CERTIFICATE_TYPE, CKC_X_509)])
            key_ids = {calls.attr(h, CKA_ID) for h in calls.find([(CKA_CLASS, CKO_PUBLIC_KEY)])}
            key_ids |= {calls.attr(h, CKA_ID) for h in calls.find([(CKA_CLASS, CKO_PRIVATE_KEY)])}
            out = []
            for handle in certs:
                value, key_id, label = calls.attrs(handle, (CKA_VALUE, CKA_ID, CKA_LABEL))
                certificate = _certificate_or_none(value)
                if certificate is not None:
                    out.append(TokenCertificate(certificate, padded_text(label), key_id,
                                                key_id in key_ids and key_id != b""))
        return out

    def certificate(self, cert_id: str) -> TokenCertificate:
        """The certificate with this id (Streebog thumbprint hex); ``key_not_found`` when the token lacks it."""
        for entry in self.certificates():
            if entry.cert_id == cert_id.lower():
                return entry
        raise KeyNotFoundError(situation="no_token_certificate", cert_id=cert_id, label=self._label)

    def find_key(self, cert_id: str) -> bytes | None:
        """The CKA_ID of the certificate's key pair, or None when the token shows no key object for it."""
        entry = self.certificate(cert_id)
        return entry.key_id if entry.has_private_key else None

    def public_keys(self) -> list[tuple[bytes, PublicKey]]:
        """Every GOST public key object as (CKA_ID, key)."""
        with self.session.operation() as calls:
            return [(kid, key) for h in calls.find([(CKA_CLASS, CKO_PUBLIC_KEY)])
                    for kid, key in [calls.public_key(h)] if key is not None]

    # --- signing ------------------------------------------------------------------------------------------------

    def sign_digest_with_key(self, key: TokenKey, digest: bytes, pin_provider: PinProvider) -> bytes:
        """Signature s || r of a ready Streebog ``digest`` by the private key ``key`` (PIN via the provider);
        ``mechanism_unsupported`` on a token that can only hash and sign itself."""
        return signing.sign_digest(self, key, digest, pin_provider)

    def sign_message_with_key(self, key: TokenKey, message: bytes, pin_provider: PinProvider) -> bytes:
        """Signature s || r of ``message`` by the private key ``key``: hashed on the host for CKM_GOSTR3410(_512),
        on the token for CKM_GOSTR3410_WITH_GOSTR3411_12_* when the raw mechanism is missing."""
        return signing.sign_message(self, key, message, pin_provider)

    def signer(self, entry: TokenCertificate | str, pin_provider: PinProvider) -> TokenSigner:
        """A CMS/PKCS#10 signer over a certificate of this token (its listing entry, or its id: then the token is
        listed once to find it)."""
        if isinstance(entry, str):
            entry = self.certificate(entry)
        return TokenSigner(self, entry, pin_provider)

    def key_signer(self, key_id: bytes, pin_provider: PinProvider) -> KeyPairSigner:
        """A PKCS#10 request signer over the key pair with CKA_ID ``key_id``, for a key that has no certificate
        yet; ``key_not_found`` when the token shows no such public key."""
        key = next((k for kid, k in self.public_keys() if kid == bytes(key_id)), None)
        if key is None:
            raise KeyNotFoundError(situation="no_key_pair", key_id=bytes(key_id).hex(), label=self._label)
        return KeyPairSigner(self, TokenKey(bytes(key_id), key), pin_provider)

    # --- managing objects ---------------------------------------------------------------------------------------

    def generate_key_pair(self, curve_oid: str, pin_provider: PinProvider, *, key_id: bytes | None = None,
                          label: str = "") -> tuple[bytes, PublicKey]:
        """Generate a GOST R 34.10-2012 key pair on the token (the private key never leaves it).

        ``curve_oid``: a TC 26 / CryptoPro parameter set (name or OID, as :func:`signagent.gost.curve` takes).
        ``key_id``: the CKA_ID to give both keys (default: 20 random bytes). Returns (CKA_ID, public key).
        """
        params = curve(curve_oid)
        size = params.size
        mech, key_type, digest_oid = ((CKM_GOSTR3410_KEY_PAIR_GEN, CKK_GOSTR3410, STREEBOG256) if size == 32
                                      else (CKM_GOSTR3410_512_KEY_PAIR_GEN, CKK_GOSTR3410_512, STREEBOG512))
        if mech not in self.mechanisms():
            raise MechanismUnsupportedError(situation="no_keygen", bits=size * 8)
        kid = bytes(key_id) if key_id is not None else os.urandom(20)
        common = [(CKA_TOKEN, True), (CKA_ID, kid), (CKA_KEY_TYPE, key_type)]
        if label:
            common.append((CKA_LABEL, label))
        public_tpl = [(CKA_CLASS, CKO_PUBLIC_KEY), *common, (CKA_PRIVATE, False), (CKA_VERIFY, True),
                      (CKA_GOSTR3410_PARAMS, core.ObjectIdentifier(params.oid).dump()),
                      (CKA_GOSTR3411_PARAMS, core.ObjectIdentifier(digest_oid).dump())]
        private_tpl = [(CKA_CLASS, CKO_PRIVATE_KEY), *common, (CKA_PRIVATE, True), (CKA_SENSITIVE, True),
                       (CKA_EXTRACTABLE, False), (CKA_SIGN, True)]
        with self.session.operation(pin_provider) as calls:
            pub, _ = calls.generate_key_pair(public_tpl, private_tpl, mech)
            _, key = calls.public_key(pub, default_curve=params.oid)
        if key is None:
            raise TokenError(situation="bad_public_key")
        return kid, key

    def import_certificate(self, certificate: Certificate, pin_provider: PinProvider, *,
                           label: str = "") -> bytes:
        """Store ``certificate`` next to its key pair (same CKA_ID, found by matching the public key);
        ``key_not_found`` when no public key object on the token is the certificate's. Returns the CKA_ID."""
        if not isinstance(certificate, Certificate):
            raise InvalidTypeError("certificate must be a signagent.x509.Certificate")
        wanted = certificate.public_key().to_bytes()
        kid = next((k for k, key in self.public_keys() if key.to_bytes() == wanted), None)
        if kid is None:
            raise KeyNotFoundError(situation="no_pair_for_certificate", label=self._label, serial=self._serial)
        asn1 = certificate.asn1
        template = [(CKA_CLASS, CKO_CERTIFICATE), (CKA_CERTIFICATE_TYPE, CKC_X_509), (CKA_TOKEN, True),
                    (CKA_PRIVATE, False), (CKA_ID, kid), (CKA_VALUE, certificate.der),
                    (CKA_SUBJECT, asn1.subject.dump()), (CKA_ISSUER, asn1.issuer.dump()),
                    (CKA_SERIAL_NUMBER, asn1["tbs_certificate"]["serial_number"].dump()),
                    (CKA_LABEL, label or certificate.subject.get("common_name") or "certificate")]
        with self.session.operation(pin_provider) as calls:
            calls.create(template)
        return kid

    def delete_objects(self, key_id: bytes, pin_provider: PinProvider, *, certificates: bool = True,
                       keys: bool = True) -> int:
        """Destroy the objects with CKA_ID ``key_id`` (certificates and/or both keys); returns how many."""
        classes = ([CKO_CERTIFICATE] if certificates else []) + ([CKO_PUBLIC_KEY, CKO_PRIVATE_KEY] if keys else [])
        count = 0
        with self.session.operation(pin_provider) as calls:
            for cls in classes:
                for handle in calls.find([(CKA_CLASS, cls), (CKA_ID, bytes(key_id))]):
                    calls.destroy(handle)
                    count += 1
        return count

    def delete_certificate(self, cert_id: str, pin_provider: PinProvider, *, with_keys: bool = False) -> int:
        """Destroy the certificate ``cert_id`` (and its key pair when ``with_keys``); returns the object count."""
        entry = self.certificate(cert_id)
        count = 0
        with self.session.operation(pin_provider) as calls:
            for handle in calls.find([(CKA_CLASS, CKO_CERTIFICATE), (CKA_ID, entry.key_id)]):
                found = _certificate_or_none(calls.attr(handle, CKA_VALUE))
                if found is not None and cert_id_of(found) == entry.cert_id:
                    calls.destroy(handle)
                    count += 1
            if with_keys:
                for cls in (CKO_PUBLIC_KEY, CKO_PRIVATE_KEY):
                    for handle in calls.find([(CKA_CLASS, cls), (CKA_ID, entry.key_id)]):
                        calls.destroy(handle)
                        count += 1
        return count
