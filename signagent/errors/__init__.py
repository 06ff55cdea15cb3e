"""The one error tree of signagent.

Every error the agent raises on purpose is a :class:`SignAgentError` with

* ``code`` -- a stable machine-readable string (the HTTP API and ``--json`` output carry it; never rename one),
* ``message`` -- English text, ``message_ru`` -- Russian text, both for people,
* ``retriable`` -- whether repeating the same request may succeed (a removed token may come back, a malformed
  key will not).

This module sits below every layer (``gost`` included) and imports only the standard library, so that the lowest
layer can already raise typed errors. Subclasses that describe bad arguments also derive from ``ValueError`` or
``TypeError`` so that generic callers keep working.

Exports: SignAgentError, InvalidInputError, InvalidTypeError, InvalidLengthError, UnknownAlgorithmError,
InvalidKeyError, InvalidPointError, InvalidSignatureFormatError, UsageError, FileAccessError,
CertificateFormatError, CrlFormatError, TslFormatError, TrustStoreError, DownloadError, FingerprintMismatchError,
NotRegularFileError, InputTooLargeError, TooManyElementsError, NestingTooDeepError, IntegerTooLargeError,
KdfIterationsError, NotDerError, error_of_kind / too_large_error (one code per situation, a loader's class kept),
fill_template (message templates with named placeholders), REGISTRY (every code with its messages:
:mod:`signagent.errors.registry`).
"""

from __future__ import annotations

import functools

from .registry import REGISTRY, fill_template, render

__all__ = [
    "REGISTRY",
    "CertificateFormatError",
    "CrlFormatError",
    "DownloadError",
    "FileAccessError",
    "FingerprintMismatchError",
    "InputTooLargeError",
    "IntegerTooLargeError",
    "InvalidInputError",
    "InvalidKeyError",
    "InvalidLengthError",
    "InvalidPointError",
    "InvalidSignatureFormatError",
    "InvalidTypeError",
    "KdfIterationsError",
    "NestingTooDeepError",
    "NotDerError",
    "NotRegularFileError",
    "SignAgentError",
    "TooManyElementsError",
    "TrustStoreError",
    "TslFormatError",
    "UnknownAlgorithmError",
    "UsageError",
    "error_of_kind",
    "fill_template",
    "too_large_error",
]


class SignAgentError(Exception):
    """Root of every error signagent raises deliberately.

    A subclass declares its ``code``; its default messages and ``retriable`` come from the code's entry in
    :data:`~signagent.errors.registry.REGISTRY`. Raise it with the details the code's wordings use
    (``FileAccessError(situation="directory", path=name)``); pass a message pair only when it says something
    the registry's wordings cannot.
    """

    code: str = "internal_error"
    retriable: bool = False
    default_message: str = REGISTRY["internal_error"].generic.en
    default_message_ru: str = REGISTRY["internal_error"].generic.ru

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        found = REGISTRY.get(cls.code)
        if found is None:  # a code nobody declared: tests/test_error_registry.py fails on it
            return
        # A class that still spells its own default wording or retriability keeps it (the registry test flags it).
        own = vars(cls)
        if "default_message" not in own:
            cls.default_message = found.generic.en
        if "default_message_ru" not in own:
            cls.default_message_ru = found.generic.ru
        if "retriable" not in own:
            cls.retriable = found.retriable

    def __init__(self, message: str | None = None, *, message_ru: str | None = None, **details: object) -> None:
        rendered = render(self.code, details) if message is None or message_ru is None else None
        self.message = message or (rendered[0] if rendered else self.default_message)
        self.message_ru = message_ru or (rendered[1] if rendered else self.default_message_ru)
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description: code, messages, retriable flag and any details."""
        out: dict[str, object] = {
            "code": self.code,
            "message": self.message,
            "message_ru": self.message_ru,
            "retriable": self.retriable,
        }
        if self.details:
            out["details"] = {k: str(v) for k, v in self.details.items()}
        return out


class InvalidInputError(SignAgentError, ValueError):
    """An argument has the right type but an unacceptable value."""

    code = "invalid_input"


class InvalidTypeError(InvalidInputError, TypeError):
    """An argument has the wrong type (for example ``str`` where bytes are required)."""

    code = "invalid_type"


class InvalidLengthError(InvalidInputError):
    """A byte string has the wrong length (a digest, a key, a signature)."""

    code = "invalid_length"


class UnknownAlgorithmError(InvalidInputError):
    """A curve, parameter set or algorithm name or OID that signagent does not know."""

    code = "unknown_algorithm"


class InvalidKeyError(InvalidInputError):
    """A private or public key value is out of range or otherwise unusable."""

    code = "invalid_key"


class InvalidPointError(InvalidKeyError):
    """A public key point is not on the curve, is the point at infinity or has the wrong order."""

    code = "invalid_point"


class InvalidSignatureFormatError(InvalidInputError):
    """A signature value that cannot even be parsed (wrong length)."""

    code = "invalid_signature_format"


class UsageError(SignAgentError):
    """A command was called the wrong way (missing option, conflicting options)."""

    code = "usage_error"


class FileAccessError(SignAgentError):
    """A file could not be read or written (missing, unreadable, a directory...)."""

    code = "file_access"


class CertificateFormatError(InvalidInputError):
    """Bytes that are not a certificate in any encoding signagent reads (DER, PEM, base64, PKCS#7)."""

    code = "certificate_malformed"


class CrlFormatError(InvalidInputError):
    """Bytes that are not a certificate revocation list."""

    code = "crl_malformed"


class TslFormatError(InvalidInputError):
    """An accredited-CA list (TSL XML) that cannot be read."""

    code = "tsl_malformed"


class TrustStoreError(SignAgentError):
    """The user's trust store cannot be read or written."""

    code = "trust_store_error"


class DownloadError(SignAgentError):
    """A network fetch (CRL, OCSP, CA certificate, trust anchor) failed or timed out."""

    code = "download_failed"


class FingerprintMismatchError(SignAgentError):
    """A downloaded trust anchor does not match its pinned SHA-256 fingerprint."""

    code = "fingerprint_mismatch"


class NotRegularFileError(FileAccessError):
    """A path given as input or output names a FIFO, a device or a socket where a regular file is needed.

    Reading a FIFO blocks until a writer comes, reading a device may never end, and renaming over one replaces it:
    the CLI refuses them (``-`` stands for stdin/stdout).
    """

    code = "not_a_regular_file"


class InputTooLargeError(InvalidInputError):
    """An input is larger than the cap set for its kind (bytes)."""

    code = "input_too_large"


@functools.cache
def error_of_kind(situation: type[SignAgentError], kind: type[SignAgentError]) -> type[SignAgentError]:
    """The class of a ``situation`` error (a missing file, an oversized input) met while reading a ``kind`` of input:
    the situation's code, the same in every command, and a subclass of ``kind`` too, so that a loader's callers that
    catch its own error (a directory scan skipping unreadable certificates, a store reporting damage) keep
    catching it."""
    if issubclass(kind, situation):
        return kind
    return type(f"{kind.__name__}{situation.__name__.removesuffix('Error')}", (situation, kind), {
        "__doc__": f"{situation.__name__} met while reading a {kind.__name__} input.",
        "__module__": kind.__module__, "code": situation.code})


def too_large_error(kind: type[SignAgentError]) -> type[InputTooLargeError]:
    """The class of "``kind`` input larger than allowed" (:func:`error_of_kind` of InputTooLargeError)."""
    return error_of_kind(InputTooLargeError, kind)  # type: ignore[return-value]


class TooManyElementsError(InvalidInputError):
    """A structure holds more elements than the cap set for its kind (TSL entries, certificates in a bundle...)."""

    code = "too_many_elements"


class NestingTooDeepError(InvalidInputError):
    """ASN.1, JSON or XML nested deeper than any genuine structure of its kind is."""

    code = "nesting_too_deep"


class IntegerTooLargeError(InvalidInputError):
    """An INTEGER (serial number, version, key component...) longer than any genuine one of its kind."""

    code = "integer_too_large"


class KdfIterationsError(InvalidInputError):
    """A key file asks for more PBKDF2 iterations than the ceiling (real keys use about 2,000)."""

    code = "kdf_iterations_too_high"


class NotDerError(InvalidInputError):
    """A certificate, CRL, OCSP message or request that is not in DER (RFC 5280 section 4.1 requires DER):
    indefinite or non-minimal lengths, trailing bytes, extra elements, anything whose re-encoding differs."""

    code = "not_der"
