"""The one view every certificate source gives: the :class:`Token` protocol, and how a PIN is obtained.

A source (a PKCS#11 token, a PC/SC card read over APDUs, the software-key directory) is a :class:`Token`: it has a
label, a serial, a model and a ``kind``, lists its certificates as :class:`TokenCertificate` entries and signs with
the key of one of them. Certificates are named by ``cert_id``: the certificate's Streebog-256 thumbprint in
lower-case hex (:attr:`signagent.x509.Certificate.streebog_thumbprint`), the stable identifier the inventory and
the pages use across calls.

An entry carries its key as a :class:`TokenKey` (the key's id on the token and its public key, hence its size), so
signing needs no second listing: :meth:`Token.sign_digest_with_key` signs a ready Streebog digest,
:meth:`Token.sign_message_with_key` hashes and signs a message (on the host, or on the device when the token can
only hash-and-sign). :class:`signagent.tokens.signer.TokenSigner` wraps an entry as a CMS/PKCS#10 signer.

A PIN comes from a :class:`PinProvider` only when the token needs one, so a PIN is never kept longer than one
operation: :class:`StaticPinProvider` (tests, ``--pin-file``) and :class:`ConsolePinProvider` (the terminal); the
agent's confirmation page will be a third.

Exports: Token, TokenInfo, TokenCertificate, TokenKey, PinProvider, StaticPinProvider, ConsolePinProvider,
cert_id_of.
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable

from signagent.errors import InvalidLengthError, InvalidTypeError
from signagent.fileio import read_secret
from signagent.gost import PublicKey, streebog256, streebog512
from signagent.x509 import Certificate

__all__ = [
    "ConsolePinProvider",
    "PinProvider",
    "StaticPinProvider",
    "Token",
    "TokenCertificate",
    "TokenInfo",
    "TokenKey",
    "cert_id_of",
]


def cert_id_of(certificate: Certificate) -> str:
    """The ``cert_id`` of a certificate: its Streebog-256 thumbprint, lower-case hex."""
    return certificate.streebog_thumbprint


@dataclass(frozen=True)
class TokenInfo:
    """What a PIN prompt and the inventory show about a token.

    ``source`` names where it lives (the PKCS#11 module path, a reader name, a directory). ``pin_count_low`` and
    ``pin_final_try`` mirror the token's PIN counter flags (PKCS#11 CKF_USER_PIN_COUNT_LOW / _FINAL_TRY).
    """

    label: str
    serial: str
    model: str
    manufacturer: str = ""
    source: str = ""
    slot: int | None = None
    pin_count_low: bool = False
    pin_final_try: bool = False
    pin_locked: bool = False

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description."""
        return {
            "label": self.label, "serial": self.serial, "model": self.model, "manufacturer": self.manufacturer,
            "source": self.source, "slot": self.slot, "pin_count_low": self.pin_count_low,
            "pin_final_try": self.pin_final_try, "pin_locked": self.pin_locked,
        }


@dataclass(frozen=True)
class TokenKey:
    """A key pair on a token, as found by a listing: what signing needs to use the private key again directly.

    ``key_id`` is the token's own name for the pair (PKCS#11 CKA_ID, a PKCS#15 key reference, a key file's stem);
    ``public_key`` its public half (from the certificate, or the token's public key object), which gives the size.
    """

    key_id: bytes
    public_key: PublicKey

    @property
    def size(self) -> int:
        """Bytes of the key: 32 (256-bit) or 64 (512-bit); also the size of the digest it signs."""
        return self.public_key.curve.size

    def digest_of(self, message: bytes) -> bytes:
        """The Streebog hash this key signs ``message`` by: GOST R 34.10-2012 pairs a 256-bit key with
        Streebog-256 and a 512-bit key with Streebog-512 (GOST R 34.11-2012)."""
        return (streebog256 if self.size == 32 else streebog512)(bytes(message)).digest()

    def check_digest(self, digest: object) -> bytes:
        """``digest`` as bytes when it has this key's digest size; InvalidTypeError / InvalidLengthError if not."""
        if not isinstance(digest, bytes | bytearray):
            raise InvalidTypeError("the digest must be bytes")
        if len(digest) != self.size:
            raise InvalidLengthError(f"a {self.size * 8}-bit key signs a {self.size}-byte Streebog digest, "
                                     f"not {len(digest)}")
        return bytes(digest)


@dataclass(frozen=True)
class TokenCertificate:
    """A certificate found on a token: ``key_id`` is the id linking it to its key pair (PKCS#11 CKA_ID)."""

    certificate: Certificate
    label: str
    key_id: bytes
    has_private_key: bool

    @property
    def cert_id(self) -> str:
        """The certificate's stable id (Streebog-256 thumbprint, hex)."""
        return cert_id_of(self.certificate)

    @property
    def key(self) -> TokenKey:
        """The certificate's key pair on the token (its id and the certificate's public key)."""
        return TokenKey(self.key_id, self.certificate.public_key())


@runtime_checkable
class PinProvider(Protocol):
    """Asked for the user PIN of a token when an operation needs it.

    ``tries_left`` is the number of attempts the token still allows when it says so (1 on the final try), else None.
    Returns the PIN bytes, or None when the user declines (the operation then fails with ``pin_required``).
    """

    def get_pin(self, token_info: TokenInfo, tries_left: int | None) -> bytes | None:
        """The PIN for ``token_info``, or None."""
        ...


class StaticPinProvider:
    """Always answers the same PIN (tests, ``--pin-file``). ``None`` means "no PIN" (every request declined)."""

    __slots__ = ("_pin", "calls")

    def __init__(self, pin: bytes | str | None) -> None:
        if isinstance(pin, str):
            pin = pin.encode()
        if pin is not None and not isinstance(pin, bytes):
            raise InvalidTypeError("the PIN must be bytes or str")
        self._pin = pin
        self.calls = 0

    @classmethod
    def from_file(cls, path: str | Path) -> StaticPinProvider:
        """The PIN from the first line of a file (its line end removed) -- the CLI's ``--pin-file``.

        Read by :func:`signagent.fileio.read_secret`, the one PIN/password reader (regular file, 4 KiB, UTF-8).
        """
        return cls(read_secret(path, "PIN"))

    def get_pin(self, token_info: TokenInfo, tries_left: int | None) -> bytes | None:
        """The fixed PIN (the call is counted, so tests can see whether a PIN was asked)."""
        self.calls += 1
        return self._pin

    def __repr__(self) -> str:  # never show the PIN itself
        return "StaticPinProvider(<hidden>)"


class ConsolePinProvider:
    """Prompts on the terminal without echo (``getpass``), in Russian and English; an empty answer declines."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def get_pin(self, token_info: TokenInfo, tries_left: int | None) -> bytes | None:
        """Ask for the PIN of ``token_info``; None on an empty answer or end of input."""
        out = self._stream or sys.stderr
        note = ""
        if tries_left is not None:
            note = f" [осталось попыток / tries left: {tries_left}]"
        prompt = f"PIN-код токена / PIN of token «{token_info.label}» ({token_info.serial}){note}: "
        try:
            answer = getpass.getpass(prompt, stream=out)
        except EOFError:
            return None
        return answer.encode() if answer else None


@runtime_checkable
class Token(Protocol):
    """A certificate source that can sign: what every token backend implements.

    ``kind`` names the backend for the inventory: "pkcs11", "pcsc" (a card read over APDUs) or "file" (the key
    directory). The two signing operations take a :class:`TokenKey` from the token's own listing, so they go
    straight to the key; both return the GOST R 34.10-2012 signature s || r (big-endian halves, DESIGN.md section
    3) and ask the PIN through ``pin_provider`` only when the token needs one.
    """

    kind: str

    @property
    def label(self) -> str:
        """The token's label."""
        ...

    @property
    def serial(self) -> str:
        """The token's serial number."""
        ...

    @property
    def model(self) -> str:
        """The token's model."""
        ...

    def info(self) -> TokenInfo:
        """Label, serial, model, source and PIN state."""
        ...

    def certificates(self) -> list[TokenCertificate]:
        """Every certificate on the token."""
        ...

    def find_key(self, cert_id: str) -> bytes | None:
        """The key id of the key pair belonging to the certificate ``cert_id``, or None when there is none."""
        ...

    def sign_digest_with_key(self, key: TokenKey, digest: bytes, pin_provider: PinProvider) -> bytes:
        """Signature of a ready Streebog ``digest`` (of the key's size) by ``key``. A token that can only hash and
        sign itself raises ``mechanism_unsupported``: give it the message instead."""
        ...

    def sign_message_with_key(self, key: TokenKey, message: bytes, pin_provider: PinProvider) -> bytes:
        """Signature of ``message`` by ``key``: Streebog of the key's size, then the signature (the token may hash
        on the device)."""
        ...
