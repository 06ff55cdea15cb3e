"""The fuzz targets and their oracles, run inside the guarded worker (tests/fuzz/guard.py).

A target gets the mutated bytes and the name of the seed they came from, calls the product, and returns a short
outcome string ("valid", "invalid", "rejected"...). It raises :class:`Violation` when an oracle is broken (a
mutated signed structure reported VALID, a file outside the trust store deleted, OpenSSL and signagent
disagreeing). A :class:`~signagent.errors.SignAgentError` escaping a target is the expected way to reject input and
is turned into the outcome "error:<code>" by the worker; any other exception is a failure.

The context (trust anchors, CRLs, the fixed validation time) comes from the committed corpus in
tests/fuzz/corpus/ (see make_corpus.py), so a saved regression input means the same thing on every run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from asn1crypto import pem

from . import ber

CORPUS = Path(__file__).resolve().parent / "corpus"


class Violation(AssertionError):
    """An oracle of the fuzz suite is broken (not merely an exception)."""


@dataclass
class Target:
    name: str
    kind: str  # "der", "xml" or "json": which mutator feeds it
    seeds: tuple[str, ...]
    run: Callable[[bytes, str, dict], str]
    share: float = 1.0  # fraction of the profile's inputs per target (the in-process CLI is slower)


def _read(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


class Context:
    """Everything the targets share, read once per worker from the corpus."""

    @cached_property
    def meta(self) -> dict:
        return json.loads(_read("meta.json"))

    @cached_property
    def at(self) -> datetime:
        return datetime.fromisoformat(self.meta["at"].replace("Z", "+00:00"))

    @cached_property
    def scratch(self) -> Path:
        path = Path(tempfile.mkdtemp(prefix="signagent-fuzz-"))
        (path / "cache").mkdir()
        for name in ("root", "inter"):
            (path / f"{name}.pem").write_bytes(pem.armor("CERTIFICATE", _read(f"{name}.der")))
        (path / "crls.pem").write_bytes(pem.armor("X509 CRL", _read("crl_inter.der"))
                                        + pem.armor("X509 CRL", _read("crl_root.der")))
        return path

    def validate(self, cert: object, *, intermediates: list | None = None, crls: list | None = None,
                 purpose: str = "signing", roots: list | None = None):  # type: ignore[no-untyped-def]
        from signagent.trust.validation import validate

        return validate(cert, trust_roots=roots if roots is not None else [_read("root.der")],
                        intermediates=intermediates if intermediates is not None else [_read("inter.der")],
                        crls=crls if crls is not None else [_read("crl_inter.der"), _read("crl_root.der")],
                        at=self.at, offline=True, revocation="hard", cache_dir=str(self.scratch / "cache"),
                        purpose=purpose)  # type: ignore[arg-type]


CTX = Context()


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest().upper()  # noqa: S324  (a thumbprint)


def _report_text(report: object) -> None:
    """What ``--json`` and the text output would do with a report: must not raise either."""
    json.dumps(report.to_dict(), ensure_ascii=False)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------------ certificates

CERT_SEEDS = ("head.der", "employee.der", "ossl_ee.der", "inter.der", "root.der")


def _openssl_verify(data: bytes, seed: str) -> bool:
    """``openssl verify`` of ``data`` with the corpus chain at the corpus time (CRLs checked): accepted?"""
    from tests.oracles import openssl_gost

    d = CTX.scratch
    target = d / "target.pem"
    target.write_bytes(pem.armor("CERTIFICATE", data))
    args = ["verify", "-CAfile", "root.pem", "-attime", str(int(CTX.at.timestamp())), "-crl_check_all",
            "-CRLfile", "crls.pem"]
    if seed != "root.der":
        args += ["-untrusted", "inter.pem"]
    done = openssl_gost.run_cli([*args, "target.pem"], cwd=d)
    return done.returncode == 0 and done.stdout.strip().endswith(b"OK")


def cert_target(data: bytes, seed: str, options: dict) -> str:
    """Load, describe (``cert show``) and validate a mutated certificate (``cert validate``, revocation hard).

    Oracle: not VALID unless the bytes are the seed's; with ``options["openssl"]``, OpenSSL's verdict must be the
    same (both reject, or the bytes are unchanged)."""
    from signagent.service.certificates import describe_certificate, render_certificate
    from signagent.x509 import load_certificate

    original = _read(seed)
    status = "rejected"
    try:
        cert = load_certificate(data)
        if cert.sha1_thumbprint.upper().replace(":", "") != _sha1(data):
            raise Violation("the certificate's thumbprint is not the SHA-1 of the bytes received")
        desc = describe_certificate(cert)
        json.dumps(desc, ensure_ascii=False)
        render_certificate(desc, "ru")
        cert.problems  # noqa: B018
        report = CTX.validate(data, purpose="any" if seed in ("inter.der", "root.der") else "signing")
        _report_text(report)
        status = report.status
        if report.chain and report.chain[0].sha1.upper().replace(":", "") != _sha1(data):
            raise Violation("the validation report's thumbprint is not the SHA-1 of the bytes received")
        if data != original and status == "valid":
            raise Violation(f"mutated certificate (seed {seed}) reported VALID")
    finally:
        if options.get("openssl"):
            accepted = _openssl_verify(data, seed)
            if data != original and accepted:
                options["note"] = "openssl accepts the mutated certificate"
            if data == original and not accepted:
                raise Violation("openssl rejects the unchanged seed (oracle broken)")
    return status


def intermediate_target(data: bytes, seed: str, options: dict) -> str:
    """The head's certificate validated with a mutated intermediate (or a mutated copy of the root in the pool)."""
    original = _read(seed)
    pool = [data] if seed == "inter.der" else [_read("inter.der"), data]
    report = CTX.validate(_read("head.der"), intermediates=pool)
    _report_text(report)
    if seed == "inter.der" and data != original and report.status == "valid":
        raise Violation("the head's chain is VALID through a mutated intermediate")
    if seed == "root.der" and report.status == "valid":
        # a root copy in the pool may not replace the anchor: the chosen chain must end in the anchor's bytes
        if report.chain and report.chain[-1].sha1.upper() != _sha1(original):
            raise Violation("the chain ends in a mutated copy of the trust anchor")
    return report.status


# ------------------------------------------------------------------------------------------------ CRLs

CRL_SEEDS = ("crl_inter.der", "crl_root.der")


def crl_target(data: bytes, seed: str, options: dict) -> str:
    """A mutated CRL in place of the seed: parsing, then hard-revocation validation of the head (good) and of the
    revoked certificate. Oracle: a mutated CRL is never an acceptable CRL, so neither is VALID."""
    from signagent.trust.revocation import load_crl

    original = _read(seed)
    try:
        load_crl(data)
    except Exception as exc:
        from signagent.errors import SignAgentError
        if not isinstance(exc, SignAgentError):
            raise
    crls = [data, _read("crl_root.der")] if seed == "crl_inter.der" else [_read("crl_inter.der"), data]
    out = []
    for name in ("head.der", "revoked.der"):
        report = CTX.validate(_read(name), crls=crls)
        _report_text(report)
        if data != original and report.status == "valid":
            raise Violation(f"{name} is VALID with hard revocation and only a mutated {seed}")
        if name == "revoked.der" and report.status == "valid":
            raise Violation("the revoked certificate is VALID")
        out.append(report.status)
    return "/".join(out)


# ------------------------------------------------------------------------------------------------ OCSP

OCSP_SEEDS = ("ocsp_good.der", "ocsp_revoked.der")


_FETCHERS: list = []


class _OneResponse:
    """A :class:`~signagent.trust.fetching.Fetcher` whose every OCSP POST gets the same (mutated) response and
    every GET (CRL, CA certificate) fails."""

    def __init__(self, response: bytes) -> None:
        self.response = response

    def get(self, url: str) -> bytes:
        from signagent.errors import DownloadError

        raise DownloadError(f"no network in the fuzz suite: {url}")

    def post(self, url: str, body: bytes, content_type: str) -> bytes:
        return self.response


def ocsp_target(data: bytes, seed: str, options: dict) -> str:
    """Validation (hard revocation, online through a fake network) whose only revocation source for the end entity
    is a mutated OCSP response (the intermediate's status comes from the root's CRL). Oracle: a mutated response
    never makes the head's certificate VALID, and the revoked certificate is never VALID."""
    from signagent.trust.validation import validate

    name = "head.der" if seed == "ocsp_good.der" else "revoked.der"
    fetcher = _OneResponse(data)
    _FETCHERS.append(fetcher)  # validate() caches results by id(fetcher): a recycled id must not hit that cache
    report = validate(_read(name), trust_roots=[_read("root.der")], intermediates=[_read("inter.der")],
                      crls=[_read("crl_root.der")], at=CTX.at, offline=False, revocation="hard",
                      fetcher=fetcher, cache_dir=str(CTX.scratch / "cache"))  # type: ignore[arg-type]
    _report_text(report)
    if report.status == "valid" and (name == "revoked.der" or _ocsp_signed_parts(data) != _ocsp_signed_parts(
            _read(seed))):
        raise Violation(f"{name} is VALID with hard revocation and only a mutated OCSP response")
    return report.status


def _ocsp_signed_parts(data: bytes) -> tuple | None:
    """What the responder's signature protects, as bytes: responseStatus, responseType, tbsResponseData,
    signatureAlgorithm and signature. The ``certs`` of a response the CA signed itself are not used."""
    with ber.deep():
        try:
            response = ber.parse_deep(data)
            status, wrapped = response.children[0], response.children[1].children[0]
            basic = ber.parse_deep(wrapped.children[1].value)
            return (status.encode(), wrapped.children[0].encode(), *(c.encode() for c in basic.children[:3]))
        except (ber.BerError, IndexError, RecursionError):
            return None


# ------------------------------------------------------------------------------------------------ CMS

CMS_SEEDS = ("cms_attached.der", "cms_detached.der", "cms_openssl.der", "cms_openssl_ber.der", "cms_chain.der")


def _signed_parts(data: bytes) -> dict | None:
    """The parts a signature protects, read with the fuzz suite's own BER tree (None if it cannot read them):
    eContentType, the content octets, and per SignerInfo the canonical signed attributes and signature value."""
    with ber.deep():
        return _signed_parts_of(data) or _signed_parts_asn1crypto(data)


def _signed_parts_asn1crypto(data: bytes) -> dict | None:
    """The same parts read by asn1crypto, for mutants the suite's strict BER tree refuses but the product reads
    (junk after SignedData inside the [0] wrapper, say): what matters is that the protected values are the seed's
    as the product's parser sees them."""
    from asn1crypto import cms

    try:
        sd = cms.ContentInfo.load(data)["content"]
        encap = sd["encap_content_info"]
        content = encap["content"].native if encap["content"] is not None and encap["content"].native is not None \
            else None
        signers = []
        for si in sd["signer_infos"]:
            attrs = si["signed_attrs"]
            attrs_der = None
            if attrs is not None and attrs.contents is not None:
                attrs_der = ber.canonical(ber.parse_deep(b"\xa0" + ber.encode_length(len(attrs.contents))
                                                         + attrs.contents))
            signers.append((attrs_der, si["signature"].native))
        return {"content_type": ber.parse(encap["content_type"].dump()).value, "content": content,
                "signers": signers}
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ber.BerError, RecursionError):
        return None


def _signed_parts_of(data: bytes) -> dict | None:
    try:
        info = ber.parse_deep(data)
        if info.tag != b"\x30" or len(info.children) < 2:
            return None
        explicit = info.children[1]
        sd = explicit.children[0]
        encap = sd.children[2]
        content_type = encap.children[0].value
        content = None
        if len(encap.children) > 1:
            content = ber.flatten_string(encap.children[1].children[0])
            if content is None:
                return None
        signer_infos = next(c for c in sd.children[3:] if c.tag == b"\x31")  # after certificates [0], crls [1]
        signers = []
        for si in signer_infos.children:
            attrs = next((c for c in si.children if c.tag == b"\xa0"), None)
            sig = next((c for c in si.children[3:] if c.tag in (b"\x04", b"\x24")), None)
            signers.append((ber.canonical(attrs) if attrs is not None else None,
                            ber.flatten_string(sig) if sig is not None else None))
        return {"content_type": content_type, "content": content, "signers": signers}
    except (ber.BerError, IndexError, AttributeError, StopIteration, RecursionError):
        return None


def cms_target(data: bytes, seed: str, options: dict) -> str:
    """``verify`` of a mutated CMS (chain checked with hard revocation at the corpus time).

    Oracle: VALID only when what the signature protects is the seed's -- the content, eContentType, and for every
    signer reported valid its signed attributes (canonical DER), signature value and certificate (bytes).
    Mutations elsewhere (certificate set order, unsigned attributes, BER re-encodings) may stay VALID."""
    from signagent.cms.verification import verify

    def chain(cert, others, when):  # type: ignore[no-untyped-def]
        return CTX.validate(cert, intermediates=[*others, _read("inter.der")])

    content = _read("content.bin") if "detached" in seed else None
    report = verify(data, content=content, validate_chain=chain, at=CTX.at)
    _report_text(report)
    if report.status != "valid" or data == _read(seed):
        return report.status
    _check_valid_cms(data, seed, report.signers)
    return report.status


def _check_valid_cms(data: bytes, seed: str, signers: tuple) -> None:
    """The CMS oracle for a mutant reported VALID (see :func:`cms_target`)."""
    seed_parts = _signed_parts(_read(seed))
    parts = _signed_parts(data)
    if parts is None or seed_parts is None:
        raise Violation("VALID, but the oracle cannot read the mutated CMS's signed parts")
    if parts["content_type"] != seed_parts["content_type"]:
        raise Violation("VALID with a changed eContentType")
    if "detached" not in seed and parts["content"] != seed_parts["content"]:
        raise Violation("VALID with changed content")
    head = _read("head.der")
    for signer in signers:
        if signer.status != "valid":
            continue
        if signer.certificate is None or signer.certificate.der != head:
            raise Violation("VALID with a signer certificate that is not the seed's")
        if signer.index >= len(parts["signers"]) or parts["signers"][signer.index] not in seed_parts["signers"]:
            raise Violation("VALID with changed signed attributes or signature value")
        chain = getattr(signer.chain, "chain", None)
        expected = [_sha1(_read(n)) for n in ("head.der", "inter.der", "root.der")]
        if chain is not None and [c.sha1.upper() for c in chain] != expected:
            raise Violation("VALID through a chain that is not the corpus certificates' bytes")


# ------------------------------------------------------------------------------------------------ keys, requests

KEY_SEEDS = ("key_plain.der", "key_openssl.der", "key_encrypted.der")


def pkcs8_target(data: bytes, seed: str, options: dict) -> str:
    """``load_private_key`` with and without the password; only project errors."""
    from signagent.errors import SignAgentError
    from signagent.pkcs8.keyfile import load_private_key

    outcomes = []
    for password in (CTX.meta["password"], None):
        try:
            key = load_private_key(data, password)
            key.public_key().to_bytes()
            outcomes.append("key")
        except SignAgentError as exc:
            outcomes.append(exc.code)
        except Exception:
            raise
    return "/".join(outcomes)


CSR_SEEDS = ("csr.der", "csr_openssl.der")


def pkcs10_target(data: bytes, seed: str, options: dict) -> str:
    """``parse_request`` + ``verify_request`` (``signagent csr --check``). Oracle: a mutated request never
    verifies (strict DER, signature over the bytes received)."""
    from signagent.cms.pkcs10 import parse_request, verify_request

    info = parse_request(data)
    json.dumps(info.to_dict(), ensure_ascii=False)
    ok = verify_request(data)
    if ok and data != _read(seed):
        raise Violation("a mutated request verifies")
    return "verifies" if ok else "bad-signature"


# ------------------------------------------------------------------------------------------------ TSL, store, manifest


def tsl_target(data: bytes, seed: str, options: dict) -> str:
    """``parse_tsl`` and ``import_tsl`` into an empty store (with the corpus manifest); only project errors."""
    from signagent.service.trust_admin import import_tsl
    from signagent.trust.manifest import parse_manifest
    from signagent.trust.store import TrustStore
    from signagent.trust.tsl import parse_tsl

    doc = parse_tsl(data)
    json.dumps([ca.to_dict() for ca in doc.cas], ensure_ascii=False)
    work = Path(tempfile.mkdtemp(dir=CTX.scratch))
    try:
        (work / "list.xml").write_bytes(data)
        result = import_tsl(TrustStore(work / "store"), work / "list.xml",
                            manifest=parse_manifest(_read("manifest.json")))
        json.dumps(result, ensure_ascii=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return f"cas={len(doc.cas)}"


def store_target(data: bytes, seed: str, options: dict) -> str:
    """A copy of the corpus trust store with a mutated index.json: list, roots/intermediates/crls, validation from
    the store, and remove() of the first entry. Oracles: only project errors; remove() deletes nothing outside the
    store (a sentinel file beside it must survive)."""
    from signagent.trust.store import TrustStore

    work = Path(tempfile.mkdtemp(dir=CTX.scratch))
    try:
        shutil.copytree(CORPUS / "store", work / "store")
        sentinel = work / "sentinel.txt"
        sentinel.write_bytes(b"keep me")
        fifo = work / "fifo"
        os.mkfifo(fifo)
        text = data.replace(b"@SENTINEL@", str(sentinel).encode()).replace(b"@FIFO@", str(fifo).encode())
        (work / "store" / "index.json").write_bytes(text)
        store = TrustStore(work / "store")
        entries = store.list()
        roots, inters, crls = store.roots(), store.intermediates(), store.crls()
        if roots:
            report = CTX.validate(_read("head.der"), roots=roots, intermediates=inters, crls=crls)
            _report_text(report)
        if entries:
            store.remove(entries[0].sha1)
        if not sentinel.exists():
            raise Violation("remove() deleted a file outside the trust store")
        return f"entries={len(entries)}"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def manifest_target(data: bytes, seed: str, options: dict) -> str:
    """``parse_manifest`` of mutated JSON; only project errors."""
    from signagent.trust.manifest import parse_manifest

    manifest = parse_manifest(data)
    json.dumps([a.to_dict() for a in manifest.anchors], ensure_ascii=False)
    return f"anchors={len(manifest.anchors)}"


# ------------------------------------------------------------------------------------------------ command line

CLI_SEEDS = ("head.der", "cms_attached.der", "cms_detached.der", "csr.der", "key_encrypted.der", "crl_inter.der")


class _CrashLogged(Exception):
    pass


def cli_target(data: bytes, seed: str, options: dict) -> str:
    """The ``signagent`` command line in-process on a mutated file: ``cert show``/``cert validate`` (certificate),
    ``verify`` (CMS), ``csr verify``, ``sign --key`` (encrypted key), ``cert validate --crl`` (CRL).

    Oracles: exit 0/1/2 with no "internal error" (the CLI's safety net for a non-project exception: the exception
    it would log is re-raised here, so the failure names the product frame) and no traceback on stderr; exit 0
    from validate/verify/csr verify only for the seed's bytes (for CMS: the CMS oracle)."""
    import contextlib
    import io

    import signagent.cli as cli

    d = CTX.scratch
    work = Path(tempfile.mkdtemp(dir=d))
    crashes: list[BaseException] = []

    def capture(exc: BaseException, argv: object) -> None:
        crashes.append(exc)
        return None

    try:
        path = work / "input"
        path.write_bytes(data)
        (work / "content.bin").write_bytes(_read("content.bin"))
        (work / "password").write_text(CTX.meta["password"] + "\n", encoding="utf-8")
        (work / "cert.der").write_bytes(_read("head.der"))
        (work / "crl_root.der").write_bytes(_read("crl_root.der"))
        chain = ["--trust", str(d / "root.pem"), "--intermediate", str(d / "inter.pem"), "--at", CTX.meta["at"],
                 "--offline", "--revocation", "hard"]
        crl = ["--crl", str(d / "crls.pem")]
        runs: list[tuple[list[str], bool]] = []  # (argv, exit 0 means "valid")
        if seed == "head.der":
            runs = [(["cert", "show", str(path), "--json"], False), (["cert", "show", str(path)], False),
                    (["cert", "validate", str(path), *chain, *crl, "--json"], True)]
        elif seed.startswith("cms_"):
            content = ["--content", str(work / "content.bin")] if "detached" in seed else []
            runs = [(["verify", str(path), *content, *chain, *crl, "--json"], True),
                    (["verify", str(path), *content, *chain, *crl], True)]
        elif seed == "csr.der":
            runs = [(["csr", "verify", str(path), "--json"], True)]
        elif seed == "key_encrypted.der":
            runs = [(["sign", str(work / "content.bin"), "--cert", str(work / "cert.der"), "--key", str(path),
                      "--pin-file", str(work / "password"), "-o", str(work / "out.p7s")], False)]
        elif seed == "crl_inter.der":
            runs = [(["cert", "validate", str(d / "root.pem"), "--trust", str(d / "root.pem"), "--crl", str(path),
                      "--at", CTX.meta["at"], "--offline"], False),
                    (["cert", "validate", str(work / "cert.der"), *chain, "--crl", str(path), "--crl",
                      str(work / "crl_root.der")], True)]
        codes = []
        original = cli.write_crash_log
        cli.write_crash_log = capture
        try:
            for argv, means_valid in runs:
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = cli.main(argv)
                if crashes:
                    raise crashes[0]
                text = err.getvalue()
                if code not in (0, 1, 2):
                    raise Violation(f"exit code {code} from {argv[0]} {argv[1]}")
                if "Traceback" in text or "internal error" in text:
                    raise Violation(f"a traceback or internal error on stderr: {text[:200]!r}")
                if text.count("\n") > 1 and code != 0:
                    raise Violation(f"an error message of several lines: {text[:300]!r}")
                if means_valid and code == 0 and data != _read(seed):
                    if seed.startswith("cms_"):
                        cms_target(data, seed, {})  # the CMS oracle decides whether VALID is legitimate
                    else:
                        raise Violation(f"exit 0 (valid) from {argv[0]} {argv[1]} for a mutated {seed}")
                codes.append(str(code))
        finally:
            cli.write_crash_log = original
        return "/".join(codes)
    finally:
        shutil.rmtree(work, ignore_errors=True)


TARGETS: dict[str, Target] = {t.name: t for t in [
    Target("certificate", "der", CERT_SEEDS, cert_target),
    Target("intermediate", "der", ("inter.der", "root.der"), intermediate_target),
    Target("crl", "der", CRL_SEEDS, crl_target),
    Target("cms", "der", CMS_SEEDS, cms_target),
    Target("ocsp", "der", OCSP_SEEDS, ocsp_target),
    Target("pkcs8", "der", KEY_SEEDS, pkcs8_target),
    Target("pkcs10", "der", CSR_SEEDS, pkcs10_target),
    Target("tsl", "xml", ("tsl.xml",), tsl_target),
    Target("store_index", "json", ("store/index.json",), store_target),
    Target("manifest", "json", ("manifest.json",), manifest_target),
    Target("cli", "der", CLI_SEEDS, cli_target, share=0.4),
]}


def seeds_of(target: Target) -> dict[str, bytes]:
    return {name: _read(name) for name in target.seeds}


# ------------------------------------------------------------------------------------------------ guard self-tests


def _self_hang(data: bytes, seed: str, options: dict) -> str:
    import time

    time.sleep(3600)
    return "woke"


def _self_crash(data: bytes, seed: str, options: dict) -> str:
    import signal

    os.kill(os.getpid(), signal.SIGSEGV)
    return "alive"


def _self_memory(data: bytes, seed: str, options: dict) -> str:
    hog = bytearray(4 << 30)
    return str(len(hog))


def _self_recursion(data: bytes, seed: str, options: dict) -> str:
    def down(n: int) -> int:
        return down(n + 1)

    return str(down(0))


SELF_TESTS: dict[str, Callable[[bytes, str, dict], str]] = {
    "_hang": _self_hang, "_crash": _self_crash, "_memory": _self_memory, "_recursion": _self_recursion,
}
