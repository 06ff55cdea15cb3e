"""The software-key directory: PKCS#8 key files with their certificates, listed and used like a token.

Layout (one pair per stem)::

    <dir>/NAME.key                 the PKCS#8 private key (PEM or DER, plain or PBES2-encrypted)
    <dir>/NAME.crt|.cer|.pem|.der  its certificate (any encoding signagent.x509 reads; the first certificate of
                                   the file is the key's, a chain after it is ignored)

A certificate without a key file of the same stem is listed with ``has_private_key`` False. The directory is
``$SIGNAGENT_KEYS_DIR`` if set, else platformdirs' user data directory for signagent + ``/keys``, unless the
caller names one.

Layers: ``tokens`` may not import ``cms`` (independent siblings, pyproject.toml), so the PKCS#8 reader is passed in:
``key_loader(data, password)`` -- in practice :func:`signagent.pkcs8.keyfile.load_private_key`, wired by the service
layer. A loader error with code ``password_required`` makes the directory ask the :class:`PinProvider` for the
file's password; ``invalid_password`` becomes :class:`PinIncorrectError` (without a tries counter: a file has none).

Exports: SoftKeyDirectory, SkippedKeyFile, default_keys_dir.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from signagent.errors import InvalidTypeError, SignAgentError
from signagent.fileio import read_capped
from signagent.gost import PrivateKey, streebog256
from signagent.x509 import load_certificates_file

from .errors import KeyNotFoundError, PinIncorrectError, PinRequiredError, TokenError
from .protocol import PinProvider, TokenCertificate, TokenInfo, TokenKey, cert_id_of

__all__ = ["CERTIFICATE_SUFFIXES", "KEY_SUFFIX", "SkippedKeyFile", "SoftKeyDirectory", "default_keys_dir"]

KEY_SUFFIX = ".key"
CERTIFICATE_SUFFIXES = (".crt", ".cer", ".pem", ".der")
_MAX_KEY_FILE = 1 << 20  # a key file is a few hundred bytes
KeyLoader = Callable[[bytes, "bytes | None"], PrivateKey]


def default_keys_dir() -> Path:
    """``$SIGNAGENT_KEYS_DIR`` if set, else platformdirs' user data directory for signagent + ``/keys``."""
    override = os.environ.get("SIGNAGENT_KEYS_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("signagent")) / "keys"


@dataclass(frozen=True)
class SkippedKeyFile:
    """A file of the directory that could not be listed, and why (the error's code and message)."""

    path: Path
    code: str
    reason: str


@dataclass(frozen=True)
class _Pair:
    entry: TokenCertificate
    key_path: Path | None


class SoftKeyDirectory:
    """A directory of software keys as a :class:`signagent.tokens.protocol.Token`.

    Listing reads certificates only (no key file is decrypted); signing reads the key file, asking the PIN provider
    for its password when it is encrypted, checks that it is the certificate's key, signs, and drops it.
    """

    kind = "file"

    def __init__(self, key_loader: KeyLoader, directory: str | os.PathLike[str] | None = None) -> None:
        """``key_loader(data, password)`` turns a key file's bytes into a PrivateKey; ``directory`` overrides
        :func:`default_keys_dir`. The directory need not exist (it is then empty)."""
        if not callable(key_loader):
            raise InvalidTypeError("key_loader must be callable: load_private_key(data, password)")
        self._load = key_loader
        self.directory = Path(directory) if directory is not None else default_keys_dir()
        self.skipped: list[SkippedKeyFile] = []

    # --- Token protocol: identity -------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """Always "software keys"."""
        return "software keys"

    @property
    def serial(self) -> str:
        """A stable identifier of the directory: the first 16 hex digits of Streebog-256 of its absolute path."""
        return streebog256(str(self.directory.absolute()).encode("utf-8")).hexdigest()[:16].upper()

    @property
    def model(self) -> str:
        """Always "software key directory"."""
        return "software key directory"

    def info(self) -> TokenInfo:
        """Label, serial, model and the directory as the source."""
        return TokenInfo(label=self.label, serial=self.serial, model=self.model, manufacturer="signagent",
                         source=str(self.directory))

    # --- listing ----------------------------------------------------------------------------------------------------
    def _pairs(self) -> list[_Pair]:
        self.skipped = []
        if not self.directory.is_dir():
            return []
        files = sorted(p for p in self.directory.iterdir() if p.is_file())
        keys = {p.stem: p for p in files if p.suffix.lower() == KEY_SUFFIX}
        out: list[_Pair] = []
        seen: set[str] = set()
        for path in files:
            if path.suffix.lower() not in CERTIFICATE_SUFFIXES:
                continue
            try:
                certificate = load_certificates_file(path)[0]
            except SignAgentError as exc:  # a stray or broken file must not hide the others
                self.skipped.append(SkippedKeyFile(path, exc.code, exc.message))
                continue
            cert_id = cert_id_of(certificate)
            if cert_id in seen:  # the same certificate twice (e.g. NAME.crt and NAME.pem): list it once
                continue
            seen.add(cert_id)
            key_path = keys.get(path.stem)
            entry = TokenCertificate(certificate=certificate, label=path.stem, key_id=path.stem.encode("utf-8"),
                                     has_private_key=key_path is not None)
            out.append(_Pair(entry, key_path))
        return out

    def certificates(self) -> list[TokenCertificate]:
        """Every certificate of the directory, in file-name order; unreadable files go to :attr:`skipped`."""
        return [pair.entry for pair in self._pairs()]

    def find_key(self, cert_id: str) -> bytes | None:
        """The key id (the file stem, UTF-8) of the certificate ``cert_id``'s key file, or None."""
        for pair in self._pairs():
            if pair.entry.cert_id == cert_id and pair.key_path is not None:
                return pair.entry.key_id
        return None

    # --- signing -----------------------------------------------------------------------------------------------------
    def _key_file(self, key: TokenKey) -> Path:
        """The key file named by ``key.key_id`` (its stem), found among the directory's files -- never a path built
        from the id, so an id cannot point outside the directory."""
        stem = key.key_id.decode("utf-8", "replace")
        if self.directory.is_dir():
            for path in self.directory.iterdir():
                if path.stem == stem and path.suffix.lower() == KEY_SUFFIX and path.is_file():
                    return path
        raise KeyNotFoundError(situation="no_key_file", name=f"{stem}{KEY_SUFFIX}", directory=self.directory,
                               key_id=key.key_id.hex())

    def _private_key(self, key_path: Path, pin_provider: PinProvider) -> PrivateKey:
        data = read_capped(key_path, _MAX_KEY_FILE, "key file", TokenError)
        try:
            return self._load(data, None)
        except SignAgentError as exc:
            if exc.code != "password_required":
                raise
        password = pin_provider.get_pin(self.info(), None)
        if password is None:
            raise PinRequiredError(situation="key_file_encrypted", path=str(key_path))
        try:
            return self._load(data, password)
        except SignAgentError as exc:
            if exc.code == "invalid_password":
                raise PinIncorrectError(situation="key_file_password", path=str(key_path)) from None
            raise

    def sign_digest_with_key(self, key: TokenKey, digest: bytes, pin_provider: PinProvider) -> bytes:
        """Signature s || r of the Streebog ``digest`` by the key file ``key`` names (its stem).

        KeyNotFoundError when the directory has no such key file, or the file holds another key than ``key``.
        """
        payload = key.check_digest(digest)
        key_path = self._key_file(key)
        private = self._private_key(key_path, pin_provider)
        public = key.public_key
        if private.curve.oid != public.curve.oid or private.public_key().to_bytes() != public.to_bytes():
            raise KeyNotFoundError(situation="key_file_mismatch", key_id=key.key_id.hex(), path=str(key_path))
        return private.sign_digest(payload)

    def sign_message_with_key(self, key: TokenKey, message: bytes, pin_provider: PinProvider) -> bytes:
        """Signature s || r of ``message`` (hashed here with the key's Streebog) by the key file ``key`` names."""
        return self.sign_digest_with_key(key, key.digest_of(message), pin_provider)
