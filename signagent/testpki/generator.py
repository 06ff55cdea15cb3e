"""Generate the test PKI: keys, certificates, CRLs and a manifest, on disk and as Python objects.

Layout written under ``out_dir`` (it mirrors the URLs the certificates name, so serving ``out_dir`` as static files
answers the CRL distribution point and caIssuers addresses):

    certs/<name>.pem, certs/<name>.cer      certificate, PEM and DER
    keys/<name>.key.pem                     PKCS#8 private key, the layout OpenSSL's GOST engine writes; the
                                            files are 0600 and keys/ 0700 whatever the umask (clear keys: the
                                            test PKI's CA keys mint any certificate)
    crl/<name>.crl, crl/<name>.crl.pem      CRLs: root, inter (current), inter_expired
    chain.pem                               intermediate + root
    manifest.json                           every file, serial, thumbprint, profile and variant

Times are relative to ``now`` (default: the current time, whole seconds). With a ``seed`` the keys, serials and
file contents other than signatures are reproducible (GOST signatures are randomised by design).

Exports: DEFAULT_BASE_URL, Issued, IssuedCrl, Revocation, TestPKI, generate.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import crl, pem, x509

from ..errors import FileAccessError, InvalidInputError, InvalidTypeError
from ..gost import PrivateKey, curve, streebog256
from ..x509 import builder as b
from . import profiles
from .spec import CaSpec, PkiSpec, default_spec

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_PORT", "Issued", "IssuedCrl", "Revocation", "TestPKI", "generate"]

#: Port of the test PKI's HTTP server when no base URL is given (the agent's API uses 36985).
DEFAULT_PORT = 36987
DEFAULT_BASE_URL = f"http://127.0.0.1:{DEFAULT_PORT}/"

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Revocation:
    """One revoked certificate: serial, time and CRLReason name (asn1crypto spelling, e.g. ``key_compromise``)."""

    serial: int
    revoked_at: datetime
    reason: str
    name: str | None = None  # the certificate's name in the test PKI


@dataclass
class Issued:
    """A certificate of the test PKI with its private key and files."""

    name: str
    role: str  # "root" | "intermediate" | "end_entity" | "ocsp_responder"
    certificate: x509.Certificate
    key: PrivateKey
    issuer: str | None  # name of the issuing certificate in the PKI; None for the self-signed root
    profile: str | None = None
    variant: str | None = None
    paths: dict[str, Path] = field(default_factory=dict)  # "pem", "der", "key"

    @property
    def der(self) -> bytes:
        """The certificate's DER."""
        return self.certificate.dump()

    @property
    def pem(self) -> bytes:
        """The certificate's PEM."""
        return pem.armor("CERTIFICATE", self.der)

    @property
    def key_pem(self) -> bytes:
        """The private key as PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``)."""
        return pem.armor("PRIVATE KEY", b.private_key_info(self.key).dump())

    @property
    def serial(self) -> int:
        """The serial number."""
        return self.certificate.serial_number

    @property
    def serial_hex(self) -> str:
        """The serial number in upper-case hex, even length, as CryptoPro shows it."""
        h = f"{self.serial:X}"
        return h if len(h) % 2 == 0 else "0" + h

    @property
    def sha1(self) -> str:
        """SHA-1 thumbprint, upper-case hex (CryptoPro's "Отпечаток")."""
        return hashlib.sha1(self.der).hexdigest().upper()  # noqa: S324  (a thumbprint, not a security use)

    @property
    def sha256(self) -> str:
        """SHA-256 fingerprint, lower-case hex."""
        return hashlib.sha256(self.der).hexdigest()

    @property
    def streebog256(self) -> str:
        """Streebog-256 thumbprint, lower-case hex."""
        return streebog256(self.der).hexdigest()


@dataclass
class IssuedCrl:
    """A CRL of the test PKI."""

    name: str
    issuer: str
    crl: crl.CertificateList
    number: int
    this_update: datetime
    next_update: datetime
    revoked: tuple[Revocation, ...]
    paths: dict[str, Path] = field(default_factory=dict)  # "der", "pem"

    @property
    def der(self) -> bytes:
        """The CRL's DER."""
        return self.crl.dump()

    @property
    def pem(self) -> bytes:
        """The CRL's PEM (``X509 CRL``)."""
        return pem.armor("X509 CRL", self.der)


@dataclass
class TestPKI:
    """Everything :func:`generate` made, by name: certificates with keys, CRLs, revocation data and URLs."""

    __test__ = False  # not a pytest test class despite the name

    out_dir: Path
    base_url: str
    now: datetime
    spec: PkiSpec
    root: Issued
    intermediate: Issued
    end_entities: dict[str, Issued]
    ocsp_responder: Issued | None
    crls: dict[str, IssuedCrl]
    revocations: dict[str, dict[int, Revocation]]  # issuer name -> serial -> revocation
    urls: dict[str, str]
    manifest_path: Path

    def __getitem__(self, name: str) -> Issued:
        for item in self.certificates:
            if item.name == name:
                return item
        raise KeyError(name)

    @property
    def certificates(self) -> list[Issued]:
        """Every certificate: root, intermediate, end entities, then the OCSP responder."""
        out = [self.root, self.intermediate, *self.end_entities.values()]
        return out + ([self.ocsp_responder] if self.ocsp_responder else [])

    def chain(self, name: str) -> list[Issued]:
        """The certificate called ``name`` followed by its issuers up to the root."""
        out = [self[name]]
        while out[-1].issuer is not None:
            out.append(self[out[-1].issuer])
        return out

    def issued_by(self, issuer: str) -> list[Issued]:
        """Certificates whose issuer is the certificate called ``issuer`` (the root is not its own child)."""
        return [c for c in self.certificates if c.issuer == issuer]


class _Entropy:
    """Key and serial material: the OS CSPRNG, or derived from a seed with SHA-512 for reproducible output."""

    def __init__(self, seed: str | int | bytes | None) -> None:
        if seed is None:
            self._seed = None
        elif isinstance(seed, bytes):
            self._seed = seed
        elif isinstance(seed, str | int) and not isinstance(seed, bool):
            self._seed = str(seed).encode()
        else:
            raise InvalidTypeError("seed must be a str, int or bytes")

    def bytes(self, label: str, n: int) -> bytes:
        if self._seed is None:
            return secrets.token_bytes(n)
        out = b""
        counter = 0
        while len(out) < n:
            out += hashlib.sha512(self._seed + b"/" + label.encode() + counter.to_bytes(4, "big")).digest()
            counter += 1
        return out[:n]

    def key(self, curve_name: str, label: str) -> PrivateKey:
        c = curve(curve_name)
        if self._seed is None:
            return PrivateKey.generate(c)
        # 16 extra bytes make the bias of the reduction negligible; d in 1..q-1.
        d = int.from_bytes(self.bytes("key/" + label, c.size + 16), "big") % (c.q - 1) + 1
        return PrivateKey.from_bytes(c, d.to_bytes(c.size, "little"))

    def serial(self, label: str, length: int) -> int:
        raw = int.from_bytes(self.bytes("serial/" + label, length), "big")
        return (raw >> 2) | (1 << (8 * length - 2))  # positive, exactly `length` bytes in DER


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC).replace(microsecond=0)
    if not isinstance(now, datetime):
        raise InvalidTypeError("now must be a datetime")
    if now.tzinfo is None:
        raise InvalidInputError("now must be timezone-aware")
    return now.astimezone(UTC).replace(microsecond=0)


def _base_url(base_url: str | None) -> str:
    url = DEFAULT_BASE_URL if base_url is None else base_url
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"the base URL must be an http(s) URL, not {url!r}")
    return url if url.endswith("/") else url + "/"


def _issue_ca(ca: CaSpec, spec: PkiSpec, now: datetime, rng: _Entropy, key: PrivateKey,
              issuer: Issued | None, urls: dict[str, str]) -> x509.Certificate:
    return b.build_certificate(
        subject=profiles.ca_subject(ca),
        public_key=key.public_key(),
        signing_key=issuer.key if issuer else key,
        issuer=issuer.certificate if issuer else None,
        serial=rng.serial(ca.name, ca.serial_length),
        not_before=now - ca.days_before * _DAY,
        not_after=now + ca.days_after * _DAY,
        extensions=profiles.ca_extensions(
            ca, spec.sign_tools,
            crl_url=urls[f"crl_{issuer.name}"] if issuer else None,
            ca_issuers_url=urls[f"cert_{issuer.name}"] if issuer else None,
        ),
    )


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path``; ``private`` (a key): the file 0600 in a 0700 directory, set explicitly."""
    try:
        if not private:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            return
        path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        os.chmod(path.parent, PRIVATE_DIR_MODE)  # the umask narrows mkdir's mode, and the directory may be old
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_FILE_MODE)
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)  # before any byte: an existing 0644 file is narrowed first
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    except OSError as exc:
        raise FileAccessError(situation="cannot_write", path=str(path), error=exc.strerror) from exc


def _save_cert(out: Path, item: Issued) -> None:
    item.paths = {
        "pem": out / "certs" / f"{item.name}.pem",
        "der": out / "certs" / f"{item.name}.cer",
        "key": out / "keys" / f"{item.name}.key.pem",
    }
    _write(item.paths["pem"], item.pem)
    _write(item.paths["der"], item.der)
    _write(item.paths["key"], item.key_pem, private=True)


def _save_crl(out: Path, item: IssuedCrl) -> None:
    item.paths = {"der": out / "crl" / f"{item.name}.crl", "pem": out / "crl" / f"{item.name}.crl.pem"}
    _write(item.paths["der"], item.der)
    _write(item.paths["pem"], item.pem)


def _make_crl(name: str, issuer: Issued, revoked: list[Revocation], this_update: datetime,
              next_update: datetime, number: int) -> IssuedCrl:
    listed = tuple(r for r in revoked if r.revoked_at <= this_update)
    signed = b.build_crl(
        issuer=issuer.certificate, signing_key=issuer.key,
        revoked=[(r.serial, r.revoked_at, r.reason) for r in listed],
        this_update=this_update, next_update=next_update, crl_number=number,
    )
    return IssuedCrl(name, issuer.name, signed, number, this_update, next_update, listed)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _manifest(pki: TestPKI) -> dict[str, object]:
    def rel(p: Path) -> str:
        return p.relative_to(pki.out_dir).as_posix()

    certs = []
    for item in pki.certificates:
        tbs = item.certificate["tbs_certificate"]
        certs.append({
            "name": item.name,
            "role": item.role,
            "profile": item.profile,
            "variant": item.variant,
            "issuer": item.issuer,
            "subject": item.certificate.subject.human_friendly,
            "serial": item.serial_hex,
            "not_before": _iso(tbs["validity"]["not_before"].native),
            "not_after": _iso(tbs["validity"]["not_after"].native),
            "curve": item.key.curve.name,
            "curve_oid": item.key.curve.oid,
            "sha1": item.sha1,
            "sha256": item.sha256,
            "streebog256": item.streebog256,
            "files": {k: rel(v) for k, v in item.paths.items()},
        })
    crls = [{
        "name": c.name,
        "issuer": c.issuer,
        "number": c.number,
        "this_update": _iso(c.this_update),
        "next_update": _iso(c.next_update),
        "revoked": [{"serial": f"{r.serial:X}", "name": r.name, "revoked_at": _iso(r.revoked_at),
                     "reason": r.reason} for r in c.revoked],
        "files": {k: rel(v) for k, v in c.paths.items()},
    } for c in pki.crls.values()]
    return {
        "generated_at": _iso(pki.now),
        "base_url": pki.base_url,
        "urls": pki.urls,
        "chain": "chain.pem",
        "certificates": certs,
        "crls": crls,
    }


def generate(out_dir: str | Path, *, now: datetime | None = None, base_url: str | None = None,
             seed: str | int | bytes | None = None, spec: PkiSpec | None = None) -> TestPKI:
    """Make the test PKI of ``spec`` (default :func:`~.spec.default_spec`), write it under ``out_dir``, return it.

    ``base_url`` is where the CRLs, CA certificates and OCSP responder are served (default
    :data:`DEFAULT_BASE_URL`); certificates name ``<base>crl/<ca>.crl``, ``<base>certs/<ca>.cer`` and
    ``<base>ocsp``. Raises FileAccessError when ``out_dir`` cannot be written.
    """
    spec = default_spec() if spec is None else spec
    if not isinstance(spec, PkiSpec):
        raise InvalidTypeError("spec must be a PkiSpec")
    now = _now(now)
    base = _base_url(base_url)
    out = Path(out_dir)
    rng = _Entropy(seed)
    root_name, inter_name = spec.root.name, spec.intermediate.name
    urls = {
        f"crl_{root_name}": f"{base}crl/{root_name}.crl",
        f"crl_{inter_name}": f"{base}crl/{inter_name}.crl",
        f"cert_{root_name}": f"{base}certs/{root_name}.cer",
        f"cert_{inter_name}": f"{base}certs/{inter_name}.cer",
        "ocsp": f"{base}ocsp",
    }

    root_key = rng.key(spec.root.curve, root_name)
    root = Issued(root_name, "root", _issue_ca(spec.root, spec, now, rng, root_key, None, urls), root_key, None)
    inter_key = rng.key(spec.intermediate.curve, inter_name)
    inter = Issued(inter_name, "intermediate",
                   _issue_ca(spec.intermediate, spec, now, rng, inter_key, root, urls), inter_key, root_name)

    end_entities: dict[str, Issued] = {}
    revoked: list[Revocation] = []
    for ee in spec.end_entities:
        key = rng.key(ee.curve, ee.name)
        window = profiles.end_entity_window(ee.variant, now)
        cert = b.build_certificate(
            subject=profiles.end_entity_subject(ee),
            public_key=key.public_key(),
            signing_key=inter.key,
            issuer=inter.certificate,
            serial=rng.serial(ee.name, 17),
            not_before=window.not_before,
            not_after=window.not_after,
            extensions=profiles.end_entity_extensions(
                ee, spec.sign_tools, window, crl_url=urls[f"crl_{inter_name}"], ocsp_url=urls["ocsp"],
                ca_issuers_url=urls[f"cert_{inter_name}"]),
        )
        end_entities[ee.name] = Issued(ee.name, "end_entity", cert, key, inter_name, ee.profile, ee.variant)
        if ee.variant == "revoked":
            revoked.append(Revocation(cert.serial_number, now - spec.revoked_days_ago * _DAY,
                                      spec.revocation_reason, ee.name))

    responder = None
    if spec.ocsp_responder:
        key = rng.key(spec.intermediate.curve, "ocsp_responder")
        cert = b.build_certificate(
            subject=[("C", "RU"), ("O", spec.intermediate.organisation.name),
                     ("CN", f"OCSP-служба: {spec.intermediate.common_name}")],
            public_key=key.public_key(), signing_key=inter.key, issuer=inter.certificate,
            serial=rng.serial("ocsp_responder", 16), not_before=now - 30 * _DAY, not_after=now + 90 * _DAY,
            extensions=profiles.responder_extensions(),
        )
        responder = Issued("ocsp_responder", "ocsp_responder", cert, key, inter_name)

    crls = {
        root_name: _make_crl(root_name, root, [], now - timedelta(hours=1), now + 30 * _DAY, 1),
        inter_name: _make_crl(inter_name, inter, revoked, now - timedelta(hours=1), now + 7 * _DAY, 2),
        f"{inter_name}_expired": _make_crl(f"{inter_name}_expired", inter, revoked, now - 30 * _DAY,
                                           now - 23 * _DAY, 1),
    }

    pki = TestPKI(
        out_dir=out, base_url=base, now=now, spec=spec, root=root, intermediate=inter, end_entities=end_entities,
        ocsp_responder=responder, crls=crls,
        revocations={root_name: {}, inter_name: {r.serial: r for r in revoked}},
        urls=urls, manifest_path=out / "manifest.json",
    )
    for item in pki.certificates:
        _save_cert(out, item)
    for c in crls.values():
        _save_crl(out, c)
    _write(out / "chain.pem", inter.pem + root.pem)
    _write(pki.manifest_path, json.dumps(_manifest(pki), ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    return pki
