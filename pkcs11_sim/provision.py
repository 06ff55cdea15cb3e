"""Putting keys and certificates on a simulated token from outside PKCS#11 (the ``pkcs11-sim`` commands).

* :func:`store_key_pair` -- a GOST private key (sealed under the token key) and its public key object, same CKA_ID;
* :func:`store_certificate` -- an X.509 certificate object;
* :func:`provision` -- a token holding a test-PKI end entity's key and certificate (DESIGN.md section 3): the test
  PKI is generated into the token directory's ``test-ca/`` unless one is there already (or ``pki_dir`` names one),
  and its root and intermediate certificates are written next to the token state.

Key material at rest: the end entity's private key ends up only inside the token, sealed under the token key --
once stored, its file in ``test-ca/keys/`` is removed, so no clear copy lies beside the token. ``test-ca/`` keeps
the certificates, CRLs and the keys of the CAs and of the end entities not (yet) put on a token, as a test CA
must to issue more; it is 0700 with 0600 key files, whatever the umask. A ``pki_dir`` given by the caller is the
caller's: nothing in it is moved or removed. A token directory made by an older version with a ``pki/`` holding
every key in clear is moved to ``test-ca/`` and tightened at the next provisioning.

Objects get the attributes real tokens give them (see :mod:`.objects`): private keys private, sensitive, not
extractable, with CKA_SIGN; public keys and certificates public.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from signagent.errors import InvalidInputError
from signagent.gost import PrivateKey, streebog256

from . import constants as C
from .attributes import TRUE, oid_der, ulong
from .objects import build
from .statefile import FILE_MODE, private_dir
from .store import SimRoot, TokenStore

__all__ = ["Provisioned", "certificate_id", "default_key_id", "provision", "store_certificate", "store_key_pair"]

VARIANT_FLAGS = ("expired", "revoked")
CA_DIR = "test-ca"
LEGACY_PKI_DIR = "pki"


def default_key_id(key: PrivateKey) -> bytes:
    """A CKA_ID for a key pair: the first 20 bytes of Streebog-256 of the public key (X||Y little-endian)."""
    return streebog256(key.public_key().to_bytes()).digest()[:20]


def certificate_id(der: bytes) -> str:
    """The id by which signagent names a certificate (``signagent certs``, ``signagent sign --cert``): Streebog-256
    of its DER in lower-case hex. Not the CKA_ID, which pairs a certificate with its key on the token."""
    return streebog256(der).hexdigest()


def _key_type(key: PrivateKey) -> int:
    return C.CKK_GOSTR3410 if key.curve.size == 32 else C.CKK_GOSTR3410_512


def store_key_pair(store: TokenStore, token_key: bytes, key: PrivateKey, *, key_id: bytes, label: str,
                   generated: bool) -> tuple[int, int]:
    """Store a private key and its public key as token objects; returns their uids (private, public).

    ``token_key`` comes from :meth:`TokenStore.check_pin` with the user PIN. ``generated`` marks a key made on the
    token (CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE true) as opposed to an imported one.
    """
    common = {
        C.CKA_TOKEN: TRUE,
        C.CKA_KEY_TYPE: ulong(_key_type(key)),
        C.CKA_ID: key_id,
        C.CKA_LABEL: label.encode(),
        C.CKA_GOSTR3410_PARAMS: oid_der(key.curve.oid),
    }
    priv_attrs, secrets = build({**common, C.CKA_CLASS: ulong(C.CKO_PRIVATE_KEY), C.CKA_VALUE: key.to_bytes()},
                                generated=generated)
    pub_attrs, _ = build({**common, C.CKA_CLASS: ulong(C.CKO_PUBLIC_KEY),
                          C.CKA_VALUE: key.public_key().to_bytes()}, generated=generated)
    if generated:
        mech = C.CKM_GOSTR3410_KEY_PAIR_GEN if key.curve.size == 32 else C.CKM_GOSTR3410_512_KEY_PAIR_GEN
        for attrs in (priv_attrs, pub_attrs):
            attrs[C.CKA_LOCAL] = TRUE
            attrs[C.CKA_KEY_GEN_MECHANISM] = ulong(mech)
        priv_attrs[C.CKA_ALWAYS_SENSITIVE] = TRUE
        priv_attrs[C.CKA_NEVER_EXTRACTABLE] = TRUE
    priv_uid = store.add_object(priv_attrs, secrets, token_key)
    pub_uid = store.add_object(pub_attrs)
    return priv_uid, pub_uid


def store_certificate(store: TokenStore, der: bytes, *, key_id: bytes, label: str) -> int:
    """Store a DER X.509 certificate as a public token object (subject, issuer, serial taken from it)."""
    attrs, _ = build({
        C.CKA_CLASS: ulong(C.CKO_CERTIFICATE),
        C.CKA_TOKEN: TRUE,
        C.CKA_VALUE: der,
        C.CKA_ID: key_id,
        C.CKA_LABEL: label.encode(),
    })
    return store.add_object(attrs)


@dataclass(frozen=True)
class Provisioned:
    """What :func:`provision` made: the token, the end entity used, its ids, the files written.

    ``key_id`` is the CKA_ID of the key pair and certificate objects; ``certificate_id`` the id signagent shows and
    accepts for the certificate (:func:`certificate_id`).
    """

    store: TokenStore
    entity: str
    key_id: bytes
    certificate_id: str
    certificate: Path
    root_certificate: Path
    intermediate_certificate: Path
    pki_dir: Path

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready summary."""
        return {
            "label": self.store.label,
            "slot": str(self.store.slot_id),
            "entity": self.entity,
            "certificate_id": self.certificate_id,
            "cka_id": self.key_id.hex(),
            "certificate": str(self.certificate),
            "root_certificate": str(self.root_certificate),
            "intermediate_certificate": str(self.intermediate_certificate),
            "pki_dir": str(self.pki_dir),
            "token_dir": str(self.store.path),
        }


def _entity_name(profile: str, variant: str) -> str:
    from signagent.testpki import PROFILES

    if profile not in PROFILES:
        raise InvalidInputError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    if variant == "valid":
        return profile
    if variant not in VARIANT_FLAGS:
        raise InvalidInputError(f"unknown variant {variant!r}")
    if profile != "head":
        raise InvalidInputError(f"the test PKI has {variant} certificates for the head profile only")
    return variant


def _load_pki_entity(pki_dir: Path, entity: str) -> tuple[PrivateKey | None, bytes, Path, Path, Path]:
    """(key or None when its file is gone, certificate DER, its path, root PEM path, intermediate PEM path)."""
    from signagent.pkcs8.keyfile import load_private_key

    cert_path = pki_dir / "certs" / f"{entity}.cer"
    key_path = _key_path(pki_dir, entity)
    if not cert_path.is_file():
        raise InvalidInputError(f"the test PKI in {pki_dir} has no {entity} certificate")
    key = load_private_key(key_path) if key_path.is_file() else None
    return (key, cert_path.read_bytes(), cert_path,
            pki_dir / "certs" / "root.pem", pki_dir / "certs" / "inter.pem")


def _key_path(pki_dir: Path, entity: str) -> Path:
    return pki_dir / "keys" / f"{entity}.key.pem"


def _own_test_ca(store: TokenStore) -> Path:
    """The token's own test PKI directory, made (or moved from the old ``pki/``) and tightened: 0700, keys 0600."""
    ca = store.path / CA_DIR
    legacy = store.path / LEGACY_PKI_DIR
    if not (ca / "manifest.json").is_file() and (legacy / "manifest.json").is_file():
        os.replace(legacy, ca)
    if not (ca / "manifest.json").is_file():
        from signagent.testpki import generate

        private_dir(ca)
        generate(ca)
    private_dir(ca)
    private_dir(ca / "keys")
    for key_file in (ca / "keys").iterdir():
        if key_file.is_file() and not key_file.is_symlink() and (key_file.stat().st_mode & 0o777) != FILE_MODE:
            os.chmod(key_file, FILE_MODE)
    return ca


def _holds_certificate(store: TokenStore, der: bytes) -> bytes | None:
    """The CKA_ID of a certificate object on the token with exactly these bytes, or None."""
    from .attributes import as_int

    for obj in store.objects().values():
        if as_int(obj.attrs[C.CKA_CLASS]) == C.CKO_CERTIFICATE and obj.attrs.get(C.CKA_VALUE) == der:
            return obj.attrs.get(C.CKA_ID, b"")
    return None


def provision(root: SimRoot, *, label: str, pin: bytes, so_pin: bytes, profile: str, variant: str = "valid",
              model: str | None = None, retries: int | None = None, pki_dir: Path | None = None) -> Provisioned:
    """Make (or reuse) the token ``label`` and put the test PKI's ``profile`` key and certificate on it.

    ``variant`` is "valid", "expired" or "revoked" (the last two exist for the head profile). An existing token
    must accept ``pin``. The root and intermediate certificates are copied to ``<token dir>/root.pem`` and
    ``<token dir>/intermediate.pem``. With the token's own test PKI (no ``pki_dir``), the end entity's key file is
    removed once the key is on the token; provisioning the same entity again finds its certificate there and adds
    nothing.
    """
    entity = _entity_name(profile, variant)
    try:
        store = root.find(label)
    except InvalidInputError:
        kwargs: dict[str, object] = {}
        if model:
            kwargs["model"] = model
        if retries:
            kwargs["retries"] = retries
        store = root.create(label, so_pin, pin, **kwargs)  # type: ignore[arg-type]
    token_key = store.check_pin("user", pin)
    own = pki_dir is None
    if own:
        pki = _own_test_ca(store)
    else:
        pki = Path(pki_dir)  # type: ignore[arg-type]
        if not (pki / "manifest.json").is_file():
            raise InvalidInputError(f"no test PKI in {pki} (manifest.json missing)")
    key, cert_der, cert_path, root_pem, inter_pem = _load_pki_entity(pki, entity)
    key_id = _holds_certificate(store, cert_der)
    if key_id is None:
        if key is None:
            raise InvalidInputError(f"the test PKI in {pki} has no {entity} key (it was moved onto a token)")
        key_id = default_key_id(key)
        store_key_pair(store, token_key, key, key_id=key_id, label=entity, generated=False)
        store_certificate(store, cert_der, key_id=key_id, label=entity)
    if own:
        # The key now lives sealed in the token only (issue 10, defect 8): no clear copy beside it.
        _key_path(pki, entity).unlink(missing_ok=True)
    root_out = store.path / "root.pem"
    inter_out = store.path / "intermediate.pem"
    shutil.copyfile(root_pem, root_out)
    shutil.copyfile(inter_pem, inter_out)
    return Provisioned(store, entity, key_id, certificate_id(cert_der), cert_path, root_out, inter_out, pki)
