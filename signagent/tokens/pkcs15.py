"""Certificates (and GOST signing) from PKCS#15 cards over APDUs, for cards without a PKCS#11 module.

The path through the card (ISO/IEC 7816-15 = PKCS#15 v1.1, section 5; APDUs of ISO/IEC 7816-4:2013 section 11):

1. SELECT the PKCS#15 application by its AID A0 00 00 00 63 50 4B 43 53 2D 31 35 (PKCS#15 v1.1 section 5.4.1);
   failing that, the conventional path 3F00 5015;
2. READ BINARY EF.ODF (5031): the directory of directory files; its ``certificates [4]``,
   ``trustedCertificates [5]`` and ``usefulCertificates [6]`` entries give the paths of the CDFs;
3. each CDF is a sequence of CertificateObjects whose X509CertificateAttributes give the path of the DER;
4. VERIFY (20) with the user PIN: 63Cx = x tries left, 6983 = blocked (ISO/IEC 7816-4 section 11.5.6);
5. MSE:SET for a digital signature template (22 41 B6) with the key reference in '84', then
   PSO: COMPUTE DIGITAL SIGNATURE (2A 9E 9A, ISO/IEC 7816-8 section 11) over a Streebog digest; a GOST card returns
   s || r, big-endian halves.

The ASN.1 types below are the subset of the PKCS#15 v1.1 module (section 6, DEFINITIONS IMPLICIT TAGS) that the
reader needs. A tag on a CHOICE is explicit (X.680 section 31.2.7): so ``[4] PathOrObjects`` in the ODF is
explicit; the ``[0]``/``[1]`` of the parameterised PKCS15Object stand for open types and are explicit too.

:class:`Pkcs15Token` puts a card behind the :class:`signagent.tokens.protocol.Token` protocol (a connection per
call, so a card pulled out between calls is simply "token_removed" and a new one is seen at once).

Errors: the token layer's (:mod:`signagent.tokens.errors`): PinIncorrectError (``tries_left`` from 63Cx),
PinLockedError (6983), PinRequiredError (6982, or a PIN provider that declines), KeyNotFoundError, and
:class:`Pkcs15Error` for a card without a readable PKCS#15 application or another refusal.

Exports: Pkcs15Error, CardCertificate, Pkcs15TokenInfo, Pkcs15Card, Pkcs15Token, read_certificates, PKCS15_AID
(and, re-exported, PinIncorrectError, PinLockedError, PinRequiredError).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from asn1crypto import core, parser

from signagent.asn1.pkcs15 import PKCS15_AID, CertificateObject, Path, PKCS15Objects
from signagent.errors import InvalidLengthError, InvalidTypeError, SignAgentError
from signagent.x509 import Certificate

from .errors import (
    KeyNotFoundError,
    PinIncorrectError,
    PinLockedError,
    PinRequiredError,
    TokenError,
    TokenRemovedError,
)
from .pcsc import CardConnection, connect
from .protocol import PinProvider, TokenCertificate, TokenInfo, TokenKey

__all__ = [
    "PKCS15_AID",
    "CardCertificate",
    "PinIncorrectError",
    "PinLockedError",
    "PinRequiredError",
    "Pkcs15Card",
    "Pkcs15Error",
    "Pkcs15Token",
    "Pkcs15TokenInfo",
    "read_certificates",
]

_APP_PATH = bytes.fromhex("3F005015")
_ODF_FID = bytes.fromhex("5031")
_TOKENINFO_FID = bytes.fromhex("5032")
_MAX_FILE = 0x7FFF  # READ BINARY's offset has 15 bits (ISO/IEC 7816-4 section 11.3.3)
USER_PIN_REFERENCE = 0x01

SW_OK = 0x9000


class Pkcs15Error(TokenError):
    """The card has no readable PKCS#15 application, or refused a command for another reason."""

    code = "pkcs15_error"


# --- ASN.1 only the reader needs (the shared schema is signagent.asn1.pkcs15) --------------------------------------


class TokenInfoFile(core.Sequence):
    """EF.TokenInfo (PKCS#15 v1.1 section 6.9): the leading fields."""

    _fields = [
        ("version", core.Integer),
        ("serial_number", core.OctetString),
        ("manufacturer_id", core.UTF8String, {"optional": True}),
        ("label", core.UTF8String, {"implicit": 0, "optional": True}),
    ]


# --- results ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardCertificate:
    """A certificate found on the card: the parsed ``certificate``, its PKCS#15 ``label``, ``key_id`` (the iD the
    private key shares, used as the MSE:SET key reference), ``authority`` flag, and where it came from (``source``:
    "certificates", "trusted_certificates" or "useful_certificates")."""

    certificate: Certificate
    label: str | None
    key_id: bytes
    authority: bool
    source: str


@dataclass(frozen=True)
class Pkcs15TokenInfo:
    """EF.TokenInfo: ``serial`` (upper-case hex), ``manufacturer`` and ``label`` when the card gives them."""

    serial: str
    manufacturer: str | None
    label: str | None


# --- the card -----------------------------------------------------------------------------------------------------
def _apdu(cla_ins_p1_p2: bytes, data: bytes = b"", le: int | None = None) -> bytes:
    """A short command APDU (ISO/IEC 7816-4 section 5.1); ``le`` 256 is coded 00."""
    if len(data) > 255:
        raise InvalidLengthError("command data longer than a short APDU allows")
    out = cla_ins_p1_p2 + (bytes([len(data)]) + data if data else b"")
    if le is not None:
        out += bytes([le & 0xFF])
    return out


def _sw_error(sw: int, what: str) -> SignAgentError:
    """The typed error for status word ``sw`` answered to command ``what``."""
    if sw & 0xFFF0 == 0x63C0:
        return PinIncorrectError(tries_left=sw & 0x0F)
    if sw == 0x6983:
        return PinLockedError()
    if sw == 0x6982:
        return PinRequiredError()
    return Pkcs15Error(situation="refused", what=what, sw=f"{sw:04X}")


@contextlib.contextmanager
def _malformed_as_pkcs15_error() -> Iterator[None]:
    """asn1crypto parses lazily: a malformed record fails when a field is read; make that a typed error."""
    try:
        yield
    except (ValueError, TypeError, KeyError) as exc:
        raise Pkcs15Error(situation="record", error=exc) from None


class Pkcs15Card:
    """The PKCS#15 application of the card behind a :class:`CardConnection`.

    Use as a context manager (closing the connection) or call :meth:`close`. Methods raise
    :class:`Pkcs15Error` for a card without the application or malformed files, the PIN errors for VERIFY,
    and the :mod:`signagent.tokens.pcsc` errors when the card or the PC/SC service goes away.
    """

    def __init__(self, connection: CardConnection) -> None:
        """Wrap ``connection``; the application is selected on first use."""
        self.connection = connection
        self._selected = False

    @classmethod
    def open(cls, reader: str) -> Pkcs15Card:
        """Connect to the card in ``reader``."""
        return cls(connect(reader))

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def __enter__(self) -> Pkcs15Card:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # files
    def _send(self, apdu: bytes, what: str) -> bytes:
        data, sw = self.connection.transmit(apdu)
        if sw != SW_OK:
            raise _sw_error(sw, what)
        return data

    def select_application(self) -> None:
        """SELECT the PKCS#15 application by AID, else by the path 3F00 5015."""
        _, sw = self.connection.transmit(_apdu(b"\x00\xA4\x04\x0C", PKCS15_AID))
        if sw != SW_OK:
            _, sw = self.connection.transmit(_apdu(b"\x00\xA4\x08\x0C", _APP_PATH[2:]))
        if sw != SW_OK:
            raise Pkcs15Error(situation="no_application", sw=f"{sw:04X}")
        self._selected = True

    def _select_path(self, path: bytes) -> None:
        """SELECT a PKCS#15 path: absolute (3F00...) from the MF, a bare file identifier or a relative path from
        the application DF (PKCS#15 v1.1 section 6.1.5)."""
        if not self._selected:
            self.select_application()
        if len(path) < 2 or len(path) % 2:
            raise Pkcs15Error(situation="ef_path", ef_path=path.hex())
        if path[:2] == b"\x3F\x00":
            apdu = _apdu(b"\x00\xA4\x08\x0C", path[2:])
        elif len(path) == 2:
            apdu = _apdu(b"\x00\xA4\x02\x0C", path)
        else:
            apdu = _apdu(b"\x00\xA4\x09\x0C", path)
        self._send(apdu, f"SELECT {path.hex().upper()}")

    def read_file(self, path: bytes, offset: int = 0, length: int | None = None) -> bytes:
        """Contents of the transparent EF at ``path`` (READ BINARY, 256 bytes at a time), from ``offset``,
        ``length`` bytes when given."""
        self._select_path(path)
        out = b""
        while length is None or len(out) < length:
            at = offset + len(out)
            if at > _MAX_FILE:
                break
            want = 256 if length is None else min(256, length - len(out))
            data, sw = self.connection.transmit(bytes([0x00, 0xB0, at >> 8, at & 0xFF, want & 0xFF]))
            if sw == 0x6B00 or (sw == 0x6A86 and out):  # past the end of the file: what was read is all
                break
            if sw not in (SW_OK, 0x6282):
                raise _sw_error(sw, f"READ BINARY {path.hex().upper()} at {at}")
            out += data
            if sw == 0x6282 or len(data) < want or not data:
                break
        return out

    def _read_path(self, path: Path) -> bytes:
        with _malformed_as_pkcs15_error():
            index = path["index"].native
            length = path["length"].native
            where = path["efid_or_path"].native
        return self.read_file(where, index or 0, length)

    @staticmethod
    def _values(data: bytes, spec: type[core.Asn1Value]) -> list[core.Asn1Value]:
        """Consecutive DER values of ``spec`` in ``data``; padding (00 or FF, left by cards after the last record)
        ends the list."""
        out = []
        pointer = 0
        while pointer < len(data) and data[pointer] not in (0x00, 0xFF):
            try:
                size = parser.peek(data[pointer:])
                value = spec.load(data[pointer:pointer + size])
            except (ValueError, TypeError, KeyError) as exc:
                raise Pkcs15Error(situation="record", error=exc) from None
            out.append(value)
            pointer += size
        return out

    def token_info(self) -> Pkcs15TokenInfo:
        """EF.TokenInfo of the application."""
        records = self._values(self.read_file(_TOKENINFO_FID), TokenInfoFile)
        if not records:
            raise Pkcs15Error(situation="empty_token_info")
        info = records[0]
        with _malformed_as_pkcs15_error():
            return Pkcs15TokenInfo(serial=info["serial_number"].native.hex().upper(),
                                   manufacturer=info["manufacturer_id"].native, label=info["label"].native)

    def certificates(self) -> list[CardCertificate]:
        """Every X.509 certificate listed by the CDFs of EF.ODF, in order; a certificate whose bytes do not parse
        raises CertificateFormatError."""
        found: list[CardCertificate] = []
        for entry in self._values(self.read_file(_ODF_FID), PKCS15Objects):
            with _malformed_as_pkcs15_error():
                source = entry.name
                where = entry.chosen
                if source not in ("certificates", "trusted_certificates", "useful_certificates"):
                    continue
                if where.name != "path":
                    continue  # directory objects held inside the ODF: not produced by the cards we know
                path = where.chosen
            for obj in self._values(self._read_path(path), CertificateObject):
                found.append(self._certificate(obj, source))
        return found

    def _certificate(self, obj: CertificateObject, source: str) -> CardCertificate:
        with _malformed_as_pkcs15_error():
            value = obj["type_attributes"]["value"]
            kind = value.name
            label = obj["common_object_attributes"]["label"].native
            key_id = obj["class_attributes"]["id"].native
            authority = bool(obj["class_attributes"]["authority"].native)
            inner = value.chosen
        if kind == "path":
            der = self._read_path(inner)
        elif kind == "direct":
            der = inner.dump()
        else:
            raise Pkcs15Error(situation="url_certificate")
        return CardCertificate(certificate=Certificate.from_der_cached(der), label=label, key_id=key_id,
                               authority=authority, source=source)

    # PIN and signing
    def pin_tries_left(self, reference: int = USER_PIN_REFERENCE) -> int | None:
        """Tries left for the PIN (VERIFY without data); None when the PIN is already verified in this session.
        PinLockedError when it is blocked."""
        if not self._selected:
            self.select_application()
        _, sw = self.connection.transmit(bytes([0x00, 0x20, 0x00, reference]))
        if sw == SW_OK:
            return None
        if sw & 0xFFF0 == 0x63C0:
            return sw & 0x0F
        raise _sw_error(sw, "VERIFY (query)")

    def verify_pin(self, pin: bytes | str, reference: int = USER_PIN_REFERENCE) -> None:
        """VERIFY ``pin``; PinIncorrectError (with ``tries_left``) or PinLockedError when refused."""
        if isinstance(pin, str):
            pin = pin.encode("utf-8")
        if not isinstance(pin, (bytes, bytearray)) or not pin:
            raise InvalidTypeError("the PIN must be non-empty bytes or str")
        if not self._selected:
            self.select_application()
        self._send(_apdu(bytes([0x00, 0x20, 0x00, reference]), bytes(pin)), "VERIFY")

    def compute_digital_signature(self, key_id: bytes, digest: bytes, pin: bytes | str | None = None) -> bytes:
        """PSO: COMPUTE DIGITAL SIGNATURE (ISO/IEC 7816-8): the GOST signature s || r of ``digest`` (32 or 64 bytes
        of Streebog output) with the private key whose reference is ``key_id`` (the certificate's PKCS#15 iD);
        VERIFY ``pin`` first when given. The commands run in one PC/SC transaction so no other program can come
        between VERIFY and the signature."""
        if len(digest) not in (32, 64):
            raise InvalidLengthError("the digest must have 32 or 64 bytes")
        if not key_id or len(key_id) > 127:
            raise InvalidLengthError("the key reference must have 1 to 127 bytes")
        with self.connection.transaction():
            if not self._selected:
                self.select_application()
            if pin is not None:
                self.verify_pin(pin)
            self._send(_apdu(b"\x00\x22\x41\xB6", b"\x84" + bytes([len(key_id)]) + key_id), "MSE:SET")
            return self._send(_apdu(b"\x00\x2A\x9E\x9A", digest, 256), "PSO: COMPUTE DIGITAL SIGNATURE")


def read_certificates(reader: str) -> list[CardCertificate]:
    """The certificates of the PKCS#15 card in ``reader`` (connect, read, disconnect)."""
    with Pkcs15Card.open(reader) as card:
        return card.certificates()


class Pkcs15Token:
    """The PKCS#15 card in one reader as a :class:`signagent.tokens.protocol.Token`.

    Label and serial come from EF.TokenInfo, the model from the ATR table. ``has_private_key`` is True for the
    non-authority entries of the ``certificates`` CDF: PKCS#15 lists the cardholder's own certificates there, each
    sharing its iD with its private key (section 6.5); the PrKDF itself is not read.
    """

    kind = "pcsc"

    def __init__(self, reader: str) -> None:
        """Read the card in ``reader`` once (TokenInfo and the model); TokenRemovedError when it is not there."""
        self.reader = reader
        with Pkcs15Card.open(reader) as card:
            info = card.token_info()
            model = card.connection.model
        self._label = info.label or reader
        self._serial = info.serial
        self._manufacturer = info.manufacturer or (model.vendor if model else "")
        self._model = model.name if model else "PKCS#15 card"

    @property
    def label(self) -> str:
        """EF.TokenInfo's label (the reader name when the card has none)."""
        return self._label

    @property
    def serial(self) -> str:
        """EF.TokenInfo's serial number, upper-case hex."""
        return self._serial

    @property
    def model(self) -> str:
        """The model the ATR names, else "PKCS#15 card"."""
        return self._model

    def info(self) -> TokenInfo:
        """Label, serial, model, manufacturer and the reader as the source."""
        return TokenInfo(label=self._label, serial=self._serial, model=self._model, manufacturer=self._manufacturer,
                         source=self.reader)

    def _open(self) -> Pkcs15Card:
        card = Pkcs15Card.open(self.reader)
        try:
            if card.token_info().serial != self._serial:  # another card was put in the reader meanwhile
                raise TokenRemovedError(situation="other_card", reader=self.reader)
        except BaseException:
            card.close()
            raise
        return card

    @staticmethod
    def _entry(found: CardCertificate) -> TokenCertificate:
        return TokenCertificate(certificate=found.certificate, label=found.label or "", key_id=found.key_id,
                                has_private_key=found.source == "certificates" and not found.authority)

    def certificates(self) -> list[TokenCertificate]:
        """Every certificate on the card."""
        with self._open() as card:
            return [self._entry(found) for found in card.certificates()]

    def find_key(self, cert_id: str) -> bytes | None:
        """The key reference (PKCS#15 iD) of the certificate ``cert_id``'s private key, or None."""
        for entry in self.certificates():
            if entry.cert_id == cert_id and entry.has_private_key:
                return entry.key_id
        return None

    def sign_digest_with_key(self, key: TokenKey, digest: bytes, pin_provider: PinProvider) -> bytes:
        """Signature s || r of ``digest`` by the private key ``key`` (its PKCS#15 iD is the key reference); the PIN
        is asked from ``pin_provider`` (with the tries left) unless the card session already has it verified. The
        card is reset afterwards, so the verification ends with the signature. A reference the card does not know
        (SW 6A88, ISO/IEC 7816-4 "referenced data not found") is ``key_not_found``."""
        payload = key.check_digest(digest)
        card = self._open()
        try:
            tries_left = card.pin_tries_left()
            pin = None
            if tries_left is not None:
                pin = pin_provider.get_pin(self.info(), tries_left)
                if pin is None:
                    raise PinRequiredError()
            try:
                return card.compute_digital_signature(key.key_id, payload, pin=pin)
            except Pkcs15Error as exc:
                if exc.details.get("sw") == "6A88":
                    raise KeyNotFoundError(key_id=key.key_id.hex(), reader=self.reader) from None
                raise
        finally:
            card.connection.close(reset=True)  # the verified PIN must not outlive this signature

    def sign_message_with_key(self, key: TokenKey, message: bytes, pin_provider: PinProvider) -> bytes:
        """Signature s || r of ``message``, hashed here with the key's Streebog (the card signs digests)."""
        return self.sign_digest_with_key(key, key.digest_of(message), pin_provider)
