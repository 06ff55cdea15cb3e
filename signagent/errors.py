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
KdfIterationsError, NotDerError, fill_template (message templates with named placeholders).
"""

from __future__ import annotations


class _Unknown(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "?"


def fill_template(template: str, values: dict[str, str]) -> str:
    """``template`` with its ``{name}`` placeholders filled from ``values``; a placeholder without a value shows "?"
    (a report's message must never fail over a detail a check could not supply)."""
    return template.format_map(_Unknown(values))


class SignAgentError(Exception):
    """Root of every error signagent raises deliberately."""

    code: str = "internal_error"
    retriable: bool = False
    default_message: str = "internal error"
    default_message_ru: str = "внутренняя ошибка"

    def __init__(self, message: str | None = None, *, message_ru: str | None = None, **details: object) -> None:
        self.message = message or self.default_message
        self.message_ru = message_ru or self.default_message_ru
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
    default_message = "invalid input"
    default_message_ru = "недопустимые входные данные"


class InvalidTypeError(InvalidInputError, TypeError):
    """An argument has the wrong type (for example ``str`` where bytes are required)."""

    code = "invalid_type"
    default_message = "argument of the wrong type"
    default_message_ru = "аргумент неверного типа"


class InvalidLengthError(InvalidInputError):
    """A byte string has the wrong length (a digest, a key, a signature)."""

    code = "invalid_length"
    default_message = "wrong length"
    default_message_ru = "неверная длина"


class UnknownAlgorithmError(InvalidInputError):
    """A curve, parameter set or algorithm name or OID that signagent does not know."""

    code = "unknown_algorithm"
    default_message = "unknown algorithm or parameter set"
    default_message_ru = "неизвестный алгоритм или набор параметров"


class InvalidKeyError(InvalidInputError):
    """A private or public key value is out of range or otherwise unusable."""

    code = "invalid_key"
    default_message = "invalid key"
    default_message_ru = "недопустимый ключ"


class InvalidPointError(InvalidKeyError):
    """A public key point is not on the curve, is the point at infinity or has the wrong order."""

    code = "invalid_point"
    default_message = "the point is not a valid public key on this curve"
    default_message_ru = "точка не является допустимым открытым ключом на этой кривой"


class InvalidSignatureFormatError(InvalidInputError):
    """A signature value that cannot even be parsed (wrong length)."""

    code = "invalid_signature_format"
    default_message = "malformed signature value"
    default_message_ru = "неверный формат значения подписи"


class UsageError(SignAgentError):
    """A command was called the wrong way (missing option, conflicting options)."""

    code = "usage_error"
    default_message = "wrong usage"
    default_message_ru = "неверный вызов"


class FileAccessError(SignAgentError):
    """A file could not be read or written (missing, unreadable, a directory...)."""

    code = "file_access"
    default_message = "cannot access the file"
    default_message_ru = "нет доступа к файлу"


class CertificateFormatError(InvalidInputError):
    """Bytes that are not a certificate in any encoding signagent reads (DER, PEM, base64, PKCS#7)."""

    code = "certificate_malformed"
    default_message = "not a readable certificate"
    default_message_ru = "не удаётся прочитать сертификат"


class CrlFormatError(InvalidInputError):
    """Bytes that are not a certificate revocation list."""

    code = "crl_malformed"
    default_message = "not a readable certificate revocation list"
    default_message_ru = "не удаётся прочитать список отзыва сертификатов"


class TslFormatError(InvalidInputError):
    """An accredited-CA list (TSL XML) that cannot be read."""

    code = "tsl_malformed"
    default_message = "not a readable list of accredited certification authorities"
    default_message_ru = "не удаётся прочитать список аккредитованных удостоверяющих центров"


class TrustStoreError(SignAgentError):
    """The user's trust store cannot be read or written."""

    code = "trust_store_error"
    default_message = "trust store error"
    default_message_ru = "ошибка хранилища доверенных сертификатов"


class DownloadError(SignAgentError):
    """A network fetch (CRL, OCSP, CA certificate, trust anchor) failed or timed out."""

    code = "download_failed"
    retriable = True
    default_message = "download failed"
    default_message_ru = "не удалось загрузить данные"


class FingerprintMismatchError(SignAgentError):
    """A downloaded trust anchor does not match its pinned SHA-256 fingerprint."""

    code = "fingerprint_mismatch"
    default_message = "the downloaded certificate does not match its pinned fingerprint"
    default_message_ru = "загруженный сертификат не совпадает с закреплённым отпечатком"


class NotRegularFileError(FileAccessError):
    """A path given as input or output names a FIFO, a device or a socket where a regular file is needed.

    Reading a FIFO blocks until a writer comes, reading a device may never end, and renaming over one replaces it:
    the CLI refuses them (``-`` stands for stdin/stdout).
    """

    code = "not_a_regular_file"
    default_message = "not a regular file"
    default_message_ru = "это не обычный файл"


class InputTooLargeError(InvalidInputError):
    """An input is larger than the cap set for its kind (bytes)."""

    code = "input_too_large"
    default_message = "the input is larger than allowed"
    default_message_ru = "входные данные больше допустимого размера"


class TooManyElementsError(InvalidInputError):
    """A structure holds more elements than the cap set for its kind (TSL entries, certificates in a bundle...)."""

    code = "too_many_elements"
    default_message = "the input holds more elements than allowed"
    default_message_ru = "во входных данных больше элементов, чем допустимо"


class NestingTooDeepError(InvalidInputError):
    """ASN.1, JSON or XML nested deeper than any genuine structure of its kind is."""

    code = "nesting_too_deep"
    default_message = "the input is nested too deeply"
    default_message_ru = "слишком глубокая вложенность входных данных"


class IntegerTooLargeError(InvalidInputError):
    """An INTEGER (serial number, version, key component...) longer than any genuine one of its kind."""

    code = "integer_too_large"
    default_message = "an integer in the input is too large"
    default_message_ru = "слишком большое целое число во входных данных"


class KdfIterationsError(InvalidInputError):
    """A key file asks for more PBKDF2 iterations than the ceiling (real keys use about 2,000)."""

    code = "kdf_iterations_too_high"
    default_message = "the key file asks for too many key-derivation iterations"
    default_message_ru = "в файле ключа задано слишком много итераций выработки ключа"


class NotDerError(InvalidInputError):
    """A certificate, CRL, OCSP message or request that is not in DER (RFC 5280 section 4.1 requires DER):
    indefinite or non-minimal lengths, trailing bytes, extra elements, anything whose re-encoding differs."""

    code = "not_der"
    default_message = "not DER-encoded"
    default_message_ru = "кодировка не соответствует DER"
