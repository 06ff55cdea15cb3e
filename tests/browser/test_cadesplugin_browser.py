"""The CryptoPro-compatible ``window.cadesplugin`` served by the agent (``/cadesplugin_api.js``, issue 13), in a real
Chromium WITHOUT the browser extension, driven by clients nobody here wrote:

* the npm package ``crypto-pro`` (pinned in ``tests/browser/npm``; its UMD bundle served as it is installed, which
  also bundles CryptoPro's own loader ``cadesplugin_api.js`` 2.3.5: it must stand down before ours);
* a page written the way CryptoPro's samples are (``cadesplugin.async_spawn`` + ``CreateObjectAsync``).

The user confirms in the agent's window (pairing, then each signature with the simulated token's PIN). Every CMS is
checked by signagent's verifier (``signagent.cms.verification.verify`` with the test PKI's chain) and by
``openssl cms -verify`` with the GOST engine. Refusals keep the shapes wrappers rely on: the user's "no" is
CryptoPro's 0x8010006E message, a certificate the agent does not hold is a "not found" error.

The figures of one run (``SIGNAGENT_CADES_TIMINGS=path``) are written as JSON when asked: crypto-pro's
getUserCertificates, and one signature with the approval automated, through crypto-pro and through our own client.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import ROOT, require
from tests.oracles import openssl_gost

from .conftest import (
    CONSOLES,
    GUARD_MS,
    PortalServer,
    Token,
    click_decision,
    decide_in_agent_window,
    dump,
    open_portal,
    pair_through_popup,
    result,
)

NPM_DIR = Path(__file__).with_name("npm")
CADES_JS = ROOT / "signagent" / "api" / "static" / "cadesplugin_api.js"
CRYPTO_PRO = NPM_DIR / "node_modules" / "crypto-pro" / "dist" / "crypto-pro.js"
TEXT = "Заявление о регистрации юридического лица\nООО «Ромашка», ИНН 7707083893\n"
UNKNOWN_THUMBPRINT = "00" * 20
CANCELLED = "(0x8010006E)"

# --- the pages -----------------------------------------------------------------------------------------------------

CADES_PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Портал на crypto-pro</title></head>
<body>
<h1>Портал на КриптоПро ЭЦП Browser plug-in</h1>
<p><input data-testid="thumbprint" size="50" value="{thumbprint}"></p>
<p><textarea data-testid="text">{text}</textarea></p>
<p>{buttons}</p>
<pre data-testid="log"></pre>
<script src="{agent}/cadesplugin_api.js"></script>
<script src="{vendor}"></script>
<script src="/{script}"></script>
</body></html>
"""

LOADER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>loader</title></head><body>
<script>
window.outcome = null; window.messages = [];
window.addEventListener('message', (e) => window.messages.push(e.data));
window.signagent_cadesplugin_options = {options};
if ({timeout}) window.cadesplugin_load_timeout = {timeout};
</script>
<script src="/cadesplugin_api.js"></script>
<script>
cadesplugin.then(() => {{ window.outcome = {{ok: true}}; }}, (e) => {{ window.outcome = {{ok: false, error: e}}; }});
</script>
</body></html>
"""

# The crypto-pro page: window.cryptoPro is the package's own UMD export, nothing adapted.
COMMON_JS = r"""
window.results = {};
const log = document.querySelector('[data-testid=log]');
function finish(name, outcome) {
  window.results[name] = outcome;
  log.textContent += `${name}: ${JSON.stringify(outcome).slice(0, 300)}\n`;
}
function describe(err) {
  return {ok: false, message: String(err && err.message !== undefined ? err.message : err),
          lastError: window.cadesplugin && cadesplugin.getLastError ? String(cadesplugin.getLastError(err)) : null};
}
function track(name, start) {
  const began = performance.now();
  let promise;
  try { promise = Promise.resolve(start()); } catch (err) { promise = Promise.reject(err); }
  promise.then((value) => finish(name, {ok: true, value, ms: performance.now() - began}),
               (err) => finish(name, describe(err)));
}
const value = (id) => document.querySelector(`[data-testid=${id}]`).value;
function bind(actions) {
  for (const [name, start] of Object.entries(actions)) {
    document.querySelector(`[data-testid="${name}"]`).addEventListener('click', () => track(name, start));
  }
}
track('load', () => window.cadesplugin.then(() => ({
  ours: Boolean(window.cadesplugin.__signagent), version: window.cadesplugin.JSModuleVersion})));
"""

CRYPTO_PRO_JS = COMMON_JS + r"""
const cp = window.cryptoPro;
bind({
  certificates: async () => (await cp.getUserCertificates(true)).map((c) => ({
    name: c.name, thumbprint: c.thumbprint, subjectName: c.subjectName, issuerName: c.issuerName,
    validFrom: c.validFrom, validTo: c.validTo})),
  certificate: async () => {
    const c = await cp.getCertificate(value('thumbprint'));
    return {thumbprint: c.thumbprint, name: c.name, valid: await c.isValid(), algorithm: await c.getAlgorithm(),
            owner: await c.getOwnerInfo(), exported: await c.exportBase64(),
            serial: await c.getCadesProp('SerialNumber')};
  },
  'sign-attached': () => cp.createAttachedSignature(value('thumbprint'), value('text')),
  'sign-detached': async () => {
    const hash = await cp.createHash(value('text'));
    return {hash, signature: await cp.createDetachedSignature(value('thumbprint'), hash)};
  },
  system: async () => ({info: await cp.getSystemInfo(), valid: await cp.isValidSystemSetup()}),
  unknown: () => cp.getCertificate('""" + UNKNOWN_THUMBPRINT.upper() + r"""'),
  'sign-unknown': () => cp.createAttachedSignature('""" + UNKNOWN_THUMBPRINT.upper() + r"""', value('text')),
});
"""

# Written the way CryptoPro's own samples are: generators, yield on every property and call.
SAMPLES_JS = COMMON_JS + r"""
function findCertificate(thumbprint) {
  return cadesplugin.async_spawn(function* () {
    const store = yield cadesplugin.CreateObjectAsync('CAdESCOM.Store');
    yield store.Open(cadesplugin.CAPICOM_CURRENT_USER_STORE, cadesplugin.CAPICOM_MY_STORE,
                     cadesplugin.CAPICOM_STORE_OPEN_MAXIMUM_ALLOWED);
    const all = yield store.Certificates;
    const found = yield all.Find(cadesplugin.CAPICOM_CERTIFICATE_FIND_SHA1_HASH, thumbprint);
    const count = yield found.Count;
    const certificate = count ? yield found.Item(1) : null;
    yield store.Close();
    return certificate;
  });
}
function utf8Base64(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}
function signer(certificate) {
  return cadesplugin.async_spawn(function* () {
    const s = yield cadesplugin.CreateObjectAsync('CAdESCOM.CPSigner');
    yield s.propset_Certificate(certificate);
    yield s.propset_Options(cadesplugin.CAPICOM_CERTIFICATE_INCLUDE_WHOLE_CHAIN);
    yield s.propset_TSAAddress('http://tsp.example.invalid/tsp/tsp.srf');
    // A page that knows the PIN and hands it over, as CryptoPro allows: ignored, the user still confirms in the
    // agent's window and types the PIN there (every signature of these tests goes through that window)
    yield s.propset_KeyPin('1234');
    const name = yield cadesplugin.CreateObjectAsync('CADESCOM.CPAttribute');
    yield name.propset_Name(cadesplugin.CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_NAME);
    yield name.propset_Value('заявление.txt');
    const attributes = yield s.AuthenticatedAttributes2;
    yield attributes.Add(name);
    return s;
  });
}
bind({
  describe: () => cadesplugin.async_spawn(function* () {
    const c = yield findCertificate(value('thumbprint'));
    const key = yield c.PublicKey();
    const algorithm = yield key.Algorithm;
    const status = yield c.IsValid();
    const about = yield cadesplugin.CreateObjectAsync('cadescom.about');
    const version = yield about.PluginVersion;
    return {subject: yield c.SubjectName, issuer: yield c.IssuerName, thumbprint: yield c.Thumbprint,
            serial: yield c.SerialNumber, from: yield c.ValidFromDate, to: yield c.ValidToDate,
            version: yield c.Version, hasKey: yield c.HasPrivateKey(), valid: yield status.Result,
            simpleName: yield c.GetInfo(cadesplugin.CAPICOM_CERT_INFO_SUBJECT_SIMPLE_NAME),
            algorithm: yield algorithm.FriendlyName, oid: yield algorithm.Value,
            exported: yield c.Export(cadesplugin.CADESCOM_ENCODE_BASE64),
            plugin: yield version.toString(), csp: yield about.CSPName()};
  }),
  'sign-detached': () => cadesplugin.async_spawn(function* () {
    const c = yield findCertificate(value('thumbprint'));
    const data = yield cadesplugin.CreateObjectAsync('CAdESCOM.CadesSignedData');
    yield data.propset_Content(value('text'));  // default encoding: the string's UCS-2LE bytes, as CryptoPro does
    return yield data.SignCades(yield signer(c), cadesplugin.CADESCOM_CADES_BES, true);
  }),
  'sign-attached': () => cadesplugin.async_spawn(function* () {
    const c = yield findCertificate(value('thumbprint'));
    const data = yield cadesplugin.CreateObjectAsync('CAdESCOM.CadesSignedData');
    yield data.propset_ContentEncoding(cadesplugin.CADESCOM_BASE64_TO_BINARY);
    yield data.propset_Content(utf8Base64(value('text')));
    window.signatureToCosign = yield data.SignCades(yield signer(c), cadesplugin.CADESCOM_CADES_BES, false);
    return window.signatureToCosign;
  }),
  cosign: () => cadesplugin.async_spawn(function* () {
    const c = yield findCertificate(value('thumbprint'));
    const data = yield cadesplugin.CreateObjectAsync('CAdESCOM.CadesSignedData');
    let verified = 'ok';
    try {
      yield data.VerifyCades(window.signatureToCosign, cadesplugin.CADESCOM_CADES_BES, false);
    } catch (err) {
      verified = cadesplugin.getLastError(err);  // the chain of the test PKI is not trusted by this machine
      console.log('VerifyCades: ' + verified);
    }
    const signature = yield data.CoSignCades(yield signer(c), cadesplugin.CADESCOM_CADES_BES);
    const signers = yield data.Signers;
    return {signature, verified, signers: yield signers.Count};
  }),
  'sign-hash': () => cadesplugin.async_spawn(function* () {
    const c = yield findCertificate(value('thumbprint'));
    const hashed = yield cadesplugin.CreateObjectAsync('CAdESCOM.HashedData');
    yield hashed.propset_Algorithm(cadesplugin.CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256);
    yield hashed.propset_DataEncoding(cadesplugin.CADESCOM_BASE64_TO_BINARY);
    yield hashed.Hash(window.binaryToHash);
    const data = yield cadesplugin.CreateObjectAsync('CAdESCOM.CadesSignedData');
    return {hash: yield hashed.Value, signature: yield data.SignHash(hashed, yield signer(c),
                                                                     cadesplugin.CADESCOM_CADES_BES)};
  }),
  'verify-hash': () => cadesplugin.async_spawn(function* () {
    // the signature 'sign-hash' made, checked by the digest of the same bytes, then of other bytes
    const outcome = {};
    for (const [name, data] of [['same', window.binaryToHash], ['other', btoa('other bytes')]]) {
      const hashed = yield cadesplugin.CreateObjectAsync('CAdESCOM.HashedData');
      yield hashed.propset_Algorithm(cadesplugin.CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256);
      yield hashed.propset_DataEncoding(cadesplugin.CADESCOM_BASE64_TO_BINARY);
      yield hashed.Hash(data);
      const signed = yield cadesplugin.CreateObjectAsync('CAdESCOM.CadesSignedData');
      try {
        yield signed.VerifyHash(hashed, window.results['sign-hash'].value.signature, cadesplugin.CADESCOM_CADES_BES);
        outcome[name] = 'ok';
      } catch (err) {
        outcome[name] = cadesplugin.getLastError(err);
      }
    }
    return outcome;
  }),
  'cosign-hash': () => cadesplugin.async_spawn(function* () {
    const c = yield findCertificate(value('thumbprint'));
    const hashed = yield cadesplugin.CreateObjectAsync('CAdESCOM.HashedData');
    yield hashed.propset_Algorithm(cadesplugin.CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256);
    yield hashed.SetHashValue(window.results['sign-hash'].value.hash);  // a hash the page has, not the bytes
    const data = yield cadesplugin.CreateObjectAsync('CAdESCOM.CadesSignedData');
    try {
      yield data.VerifyHash(hashed, window.results['sign-hash'].value.signature, cadesplugin.CADESCOM_CADES_BES);
    } catch (err) {
      console.log('VerifyHash: ' + cadesplugin.getLastError(err));  // the test PKI's root is not trusted here
    }
    return yield data.CoSignHash(hashed, yield signer(c), cadesplugin.CADESCOM_CADES_BES);
  }),
  'cades-t': () => cadesplugin.async_spawn(function* () {
    const c = yield findCertificate(value('thumbprint'));
    const data = yield cadesplugin.CreateObjectAsync('CAdESCOM.CadesSignedData');
    yield data.propset_Content(value('text'));
    return yield data.SignCades(yield signer(c), cadesplugin.CADESCOM_CADES_T);
  }),
  'gost-94': () => cadesplugin.async_spawn(function* () {
    const hashed = yield cadesplugin.CreateObjectAsync('CAdESCOM.HashedData');
    yield hashed.propset_Algorithm(cadesplugin.CADESCOM_HASH_ALGORITHM_CP_GOST_3411);
  }),
  'foreign-certificate': () => cadesplugin.async_spawn(function* () {
    const c = yield cadesplugin.CreateObjectAsync('CAdESCOM.Certificate');
    yield c.Import(window.foreignCertificate);
    const data = yield cadesplugin.CreateObjectAsync('CAdESCOM.CadesSignedData');
    yield data.propset_Content(value('text'));
    return yield data.SignCades(yield signer(c), cadesplugin.CADESCOM_CADES_BES);
  }),
  'missing-thumbprint': () => findCertificate('""" + UNKNOWN_THUMBPRINT + r"""').then((c) => c === null),
  'xml': () => cadesplugin.CreateObjectAsync('CAdESCOM.SignedXML'),
});
"""

CRYPTO_PRO_BUTTONS = ("certificates", "certificate", "sign-attached", "sign-detached", "system", "unknown",
                      "sign-unknown")
SAMPLES_BUTTONS = ("describe", "sign-detached", "sign-attached", "cosign", "sign-hash", "verify-hash", "cosign-hash",
                   "cades-t", "gost-94",
                   "foreign-certificate", "missing-thumbprint", "xml")


class CadesPortal(PortalServer):
    """A portal (``portal.test``) whose pages load the agent's ``/cadesplugin_api.js`` and then a client nobody here
    wrote: ``/crypto-pro`` (the npm package's bundle, served from ``tests/browser/npm/node_modules`` as installed)
    and ``/samples`` (CryptoPro's sample style). ``?agent=PORT&thumbprint=...``."""

    def __init__(self) -> None:
        super().__init__("portal.test")

    @staticmethod
    def _handler(server: PortalServer) -> type[Any]:
        base = PortalServer._handler(server)

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                pages = {"/crypto-pro": ("crypto-pro-page.js", CRYPTO_PRO_BUTTONS),
                         "/samples": ("samples-page.js", SAMPLES_BUTTONS)}
                if parts.path in pages:
                    script, buttons = pages[parts.path]
                    agent = f"http://127.0.0.1:{int(query.get('agent', '0'))}"
                    # The samples page loads CryptoPro's own loader too (as bundled by crypto-pro): after ours, it
                    # finds window.cadesplugin and stands down, as it does under the extension.
                    body = CADES_PAGE.format(
                        thumbprint=html.escape(query.get("thumbprint", "")), text=html.escape(TEXT), agent=agent,
                        vendor="/crypto-pro.js", script=script,
                        buttons="".join(f'<button data-testid="{b}">{b}</button>' for b in buttons))
                    self._send(body.encode(), "text/html; charset=utf-8")
                elif parts.path == "/loader":
                    # Our script as the agent serves it, aimed at ?port= (nothing there, or the agent), with
                    # window.cadesplugin_load_timeout from ?timeout=: how the promise and messages end.
                    settings = {"port": int(query.get("port", "1"))}
                    timeout = int(query.get("timeout", "0"))
                    self._send(LOADER_PAGE.format(options=json.dumps(settings), timeout=timeout).encode(),
                               "text/html; charset=utf-8")
                elif parts.path == "/cadesplugin_api.js":
                    self._send(CADES_JS.read_bytes(), "text/javascript; charset=utf-8")
                elif parts.path == "/crypto-pro.js":
                    require(CRYPTO_PRO.is_file(), f"{CRYPTO_PRO} (cd tests/browser/npm && npm ci --ignore-scripts)")
                    self._send(CRYPTO_PRO.read_bytes(), "text/javascript; charset=utf-8")
                elif parts.path == "/crypto-pro-page.js":
                    self._send(CRYPTO_PRO_JS.encode(), "text/javascript; charset=utf-8")
                elif parts.path == "/samples-page.js":
                    self._send(SAMPLES_JS.encode(), "text/javascript; charset=utf-8")
                else:
                    super().do_GET()

        return Handler


@pytest.fixture
def five_certificates(context: Any, runner: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Token]:
    """An agent seeing five certificates with their keys on five simulated tokens: the test PKI's head, employee,
    individual entrepreneur and person, and an expired head certificate. The Token is the head's."""
    import pkcs11_sim
    from pkcs11_sim.provision import provision
    from pkcs11_sim.store import SimRoot
    from tests.conftest import simulator_env

    from .conftest import PIN, SO_PIN

    with simulator_env(tmp_path_factory) as sim_dir:
        made = [provision(SimRoot(sim_dir), label=f"T{i}-{profile}", pin=PIN.encode(), so_pin=SO_PIN.encode(),
                          profile=profile, variant=variant)
                for i, (profile, variant) in enumerate((("head", "valid"), ("employee", "valid"), ("ip", "valid"),
                                                        ("person", "valid"), ("head", "expired")))]
        agent = runner.start_with({"pkcs11_modules": [pkcs11_sim.module_path()],
                                   "keys_dir": str(tmp_path_factory.mktemp("agent-keys"))})
        head = made[0]
        yield Token(agent, head.certificate_id, PIN, head.certificate, head.root_certificate,
                    head.intermediate_certificate)
        context.close()
        runner.stop(agent)


@pytest.fixture
def cades_portal() -> Iterator[CadesPortal]:
    if not CRYPTO_PRO.is_file():
        require(False, f"{CRYPTO_PRO} (cd tests/browser/npm && npm ci --ignore-scripts)")
    server = CadesPortal()
    try:
        yield server
    finally:
        server.close()


# --- helpers -------------------------------------------------------------------------------------------------------

def _open(context: Any, portal: CadesPortal, token: Token, path: str, thumbprint: str | None = None) -> Any:
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    CONSOLES[id(page)] = console
    page.goto(portal.url(path, agent=token.agent.port, thumbprint=thumbprint or _thumbprint(token)))
    loaded = result(page, "load")
    assert loaded["ok"] and loaded["value"]["ours"], dump(loaded)
    return page


def _thumbprint(token: Token) -> str:
    from signagent.x509 import load_certificates

    (cert,) = load_certificates(token.certificate.read_bytes())
    return cert.sha1_thumbprint.upper()


def _paired_page(context: Any, portal: CadesPortal, token: Token, path: str, first: str) -> tuple[Any, dict]:
    """A page whose first action (``first``, which reads the certificates) pairs the site in the agent's window."""
    page = _open(context, portal, token, path)
    decide_in_agent_window(context, lambda: page.get_by_test_id(first).click())
    outcome = result(page, first)
    assert outcome["ok"], dump(outcome)
    return page, outcome


def _signed(context: Any, page: Any, token: Token, name: str, *, approve: bool = True) -> dict[str, Any]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        decide_in_agent_window(context, lambda: page.get_by_test_id(name).click(), approve=approve,
                               pin=token.pin if approve else None)
    except PlaywrightTimeout:  # no agent window: the operation failed before asking the user -- say how
        raise AssertionError(f"no agent window for {name!r}: {page.evaluate('() => window.results')}; "
                             f"console: {CONSOLES.get(id(page))}") from None
    return result(page, name)


def _der(signature: str) -> bytes:
    """A CryptoPro-style base64 signature (CRLF every 64 characters) as DER bytes."""
    assert "\r\n" in signature or len(signature) <= 64
    return base64.b64decode("".join(signature.split()), validate=True)


def _check(token: Token, cms: bytes, tmp_path: Path, content: bytes | None = None, signers: int = 1) -> None:
    """Both verifiers accept ``cms`` (and, detached, over ``content``)."""
    from signagent.cms.verification import verify
    from signagent.trust.validation import validate
    from signagent.x509 import load_certificates

    (root,) = load_certificates(token.root.read_bytes())
    (intermediate,) = load_certificates(token.intermediate.read_bytes())

    def chain(cert: Any, others: Any, moment: Any) -> Any:
        return validate(cert, trust_roots=[root], intermediates=[intermediate], at=moment, offline=True,
                        revocation="off")

    report = verify(cms, content=content, validate_chain=chain)
    assert report.status == "valid" and len(report.signers) == signers, report.to_dict()
    require(openssl_gost.available(), f"openssl with the GOST engine ({openssl_gost.reason()})")
    signature = tmp_path / "signature.der"
    signature.write_bytes(cms)
    args = ["cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature),
            "-CAfile", str(token.chain_file(tmp_path)), "-out", str(tmp_path / "recovered.bin")]
    if content is not None:
        (tmp_path / "content.bin").write_bytes(content)
        args += ["-content", str(tmp_path / "content.bin")]
    done = openssl_gost.run_cli(args)
    assert done.returncode == 0, done.stderr.decode(errors="replace")


def _record(name: str, value: float) -> None:
    where = os.environ.get("SIGNAGENT_CADES_TIMINGS")
    if not where:
        return
    path = Path(where)
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures[name] = round(value, 1)
    path.write_text(json.dumps(figures, indent=2))


# --- crypto-pro ----------------------------------------------------------------------------------------------------

def test_crypto_pro_lists_reads_and_checks_the_system(context, signing_agent, cades_portal) -> None:
    token = signing_agent
    page, listed = _paired_page(context, cades_portal, token, "/crypto-pro", "certificates")
    thumbprint = _thumbprint(token)
    (entry,) = [c for c in listed["value"] if c["thumbprint"] == thumbprint]
    assert entry["name"] and f"CN={entry['name']}" in entry["subjectName"]
    assert entry["validFrom"] < entry["validTo"]


    page.get_by_test_id("certificate").click()
    read = result(page, "certificate")
    assert read["ok"], dump(read)
    value = read["value"]
    assert value["thumbprint"] == thumbprint and value["algorithm"]["oid"].startswith("1.2.643.7.1.1.1.")
    assert value["algorithm"]["algorithm"].startswith("ГОСТ Р 34.10-2012")
    assert base64.b64decode("".join(value["exported"].split())) == _der_certificate(token)
    assert value["valid"] is False  # the test PKI's root is not trusted on this machine: chain not valid
    assert any(i["title"] == "Владелец" for i in value["owner"]), value["owner"]

    page.get_by_test_id("system").click()
    system = result(page, "system")
    assert system["ok"] and system["value"]["valid"] is True, dump(system)
    assert system["value"]["info"]["cadesVersion"].startswith("2.0.")

    page.get_by_test_id("unknown").click()
    unknown = result(page, "unknown")
    assert not unknown["ok"] and "не найден" in unknown["message"], dump(unknown)


def _der_certificate(token: Token) -> bytes:
    from signagent.x509 import load_certificates

    (cert,) = load_certificates(token.certificate.read_bytes())
    return cert.der


def test_crypto_pro_attached_and_detached_over_a_hash(context, signing_agent, cades_portal, tmp_path: Path) -> None:
    token = signing_agent
    page, _ = _paired_page(context, cades_portal, token, "/crypto-pro", "certificates")
    signed = _signed(context, page, token, "sign-attached")
    assert signed["ok"], dump(signed)
    cms = _der(signed["value"])
    _check(token, cms, tmp_path)
    from signagent.cms.parsing import load_signed_data

    assert load_signed_data(cms).content == TEXT.encode()  # crypto-pro signs the text's UTF-8 bytes

    detached = _signed(context, page, token, "sign-detached")
    assert detached["ok"], dump(detached)
    from signagent.gost import streebog256

    assert detached["value"]["hash"] == streebog256(TEXT.encode()).hexdigest().upper()
    cms = _der(detached["value"]["signature"])
    assert load_signed_data(cms).content is None
    _check(token, cms, tmp_path, content=TEXT.encode())  # over the hash, verified against the original content


def test_crypto_pro_refusals_keep_the_wrappers_shapes(context, signing_agent, cades_portal) -> None:
    token = signing_agent
    page, _ = _paired_page(context, cades_portal, token, "/crypto-pro", "certificates")
    denied = _signed(context, page, token, "sign-attached", approve=False)
    # crypto-pro cuts CryptoPro's message before " (0x...)": what its users match on for "cancelled".
    assert not denied["ok"] and denied["message"] == "Действие было отменено пользователем", dump(denied)

    page.get_by_test_id("sign-unknown").click()
    unknown = result(page, "sign-unknown")
    assert not unknown["ok"] and UNKNOWN_THUMBPRINT.upper() in unknown["message"], dump(unknown)
    assert "не найден" in unknown["message"]


# --- CryptoPro's sample style --------------------------------------------------------------------------------------

def test_samples_style_describes_signs_cosigns_and_refuses(context, signing_agent, cades_portal,
                                                           tmp_path: Path) -> None:
    from signagent.cms.parsing import load_signed_data

    token = signing_agent
    sent: list[Any] = []  # what the page's script sends the agent: never the PIN the page set as KeyPin
    context.on("request", lambda r: sent.append(r.post_data_json) if r.url.startswith(token.agent.url + "/v1/")
               and r.method == "POST" and r.post_data else None)
    page, described = _paired_page(context, cades_portal, token, "/samples", "describe")
    value = described["value"]
    assert value["thumbprint"] == _thumbprint(token) and value["hasKey"] is True and value["version"] == 3
    assert value["oid"].startswith("1.2.643.7.1.1.1.") and value["algorithm"].startswith("ГОСТ Р 34.10-2012")
    assert value["plugin"].startswith("2.0.") and value["csp"].startswith("SignAgent")
    assert f"CN={value['simpleName']}" in value["subject"] and value["valid"] is False
    assert _der(value["exported"]) == _der_certificate(token)
    assert value["from"] < value["to"] and value["serial"] == value["serial"].upper()

    # Detached over the UCS-2LE bytes of the string (CryptoPro's default ContentEncoding).
    detached = _signed(context, page, token, "sign-detached")
    assert detached["ok"], dump(detached)
    _check(token, _der(detached["value"]), tmp_path, content=TEXT.encode("utf-16-le"))

    # Attached (content given as base64: its bytes as they are), then co-signed: two signers, both verify.
    attached = _signed(context, page, token, "sign-attached")
    assert attached["ok"], dump(attached)
    cms = _der(attached["value"])
    assert load_signed_data(cms).content == TEXT.encode()
    _check(token, cms, tmp_path)
    with context.expect_page(timeout=GUARD_MS) as opened:
        page.get_by_test_id("cosign").click()
    window = opened.value
    window.wait_for_url(re.compile(r"/confirm/[^/?#]+"), timeout=GUARD_MS)
    window.wait_for_load_state()
    # the agent's window says what is asked and shows the content the new signature is over
    assert window.get_by_test_id("confirm-title").inner_text() == "Добавить вашу подпись к документу?"
    assert TEXT.splitlines()[0] in window.get_by_test_id("confirm-content").inner_text()
    window.get_by_test_id("pin").fill(token.pin)
    click_decision(window, "approve")
    cosigned = result(page, "cosign")
    assert cosigned["ok"], dump(cosigned)
    # VerifyCades loads the signature; on this machine the test PKI's root is not trusted, which it says the way
    # CryptoPro does (the page goes on to co-sign, as portals do).
    assert cosigned["value"]["verified"] in ("ok",) or cosigned["value"]["verified"].endswith("(0x800B0109)"), \
        dump(cosigned)
    # the signer VerifyCades saw (its signature was checked even where its chain could not be)
    assert cosigned["value"]["signers"] == 1
    cms = _der(cosigned["value"]["signature"])
    assert load_signed_data(cms).content == TEXT.encode()
    _check(token, cms, tmp_path, signers=2)

    # SignHash: a hash computed through HashedData, signed detached, verified against the original bytes.
    binary = sign_hash(context, page, token, tmp_path)

    # VerifyHash: by the digest of the same bytes, the signature holds (the test PKI's root is not trusted on this
    # machine: CryptoPro's "untrusted root" then); by the digest of other bytes, CryptoPro's "hash value wrong"
    page.get_by_test_id("verify-hash").click()
    verified = result(page, "verify-hash")
    assert verified["ok"], dump(verified)
    assert verified["value"]["same"] == "ok" or verified["value"]["same"].endswith("(0x800B0109)"), dump(verified)
    assert verified["value"]["other"].endswith("(0x80091007)"), dump(verified)

    # CoSignHash: a second signature from the hash value alone; both verify against the original bytes
    cosigned = _signed(context, page, token, "cosign-hash")
    assert cosigned["ok"], dump(cosigned)
    _check(token, _der(cosigned["value"]), tmp_path, content=binary, signers=2)

    # Refusals: each a Russian message ending in CryptoPro's HRESULT for the case.
    for name, code in (("cades-t", "(0x80004001)"), ("gost-94", "(0x80090008)"), ("xml", "(0x80004001)")):
        page.get_by_test_id(name).click()
        refused = result(page, name)
        assert not refused["ok"] and refused["message"].endswith(code), (name, dump(refused))
    page.evaluate("c => { window.foreignCertificate = c; }", base64.b64encode(_der_root(token)).decode())
    page.get_by_test_id("foreign-certificate").click()
    foreign = result(page, "foreign-certificate")
    assert not foreign["ok"] and foreign["message"].endswith("(0x8009100E)"), dump(foreign)
    page.get_by_test_id("missing-thumbprint").click()
    missing = result(page, "missing-thumbprint")
    assert missing["ok"] and missing["value"] is True, dump(missing)

    def values(item: Any) -> Iterator[Any]:
        if isinstance(item, dict):
            for key, inner in item.items():
                yield key
                yield from values(inner)
        elif isinstance(item, list):
            for inner in item:
                yield from values(inner)
        else:
            yield item

    assert len(sent) >= 6  # signatures, co-signatures, hashes, verifications
    assert not [v for body in sent for v in values(body) if v in (token.pin, "pin", "key_pin")], sent


def sign_hash(context: Any, page: Any, token: Token, tmp_path: Path) -> bytes:
    """The samples page's ``sign-hash`` over 4 KiB of random bytes (HashedData, then SignHash): the hash is the
    bytes' Streebog-256 and the detached signature verifies against them. Returns the bytes."""
    from signagent.gost import streebog256

    binary = os.urandom(4096)
    page.evaluate("b => { window.binaryToHash = b; }", base64.b64encode(binary).decode())
    hashed = _signed(context, page, token, "sign-hash")
    assert hashed["ok"], dump(hashed)
    assert hashed["value"]["hash"] == streebog256(binary).hexdigest().upper()
    _check(token, _der(hashed["value"]["signature"]), tmp_path, content=binary)
    return binary


def _der_root(token: Token) -> bytes:
    from signagent.x509 import load_certificates

    (cert,) = load_certificates(token.root.read_bytes())
    return cert.der


# --- figures beside our own client ---------------------------------------------------------------------------------

def round_trip_figures(context: Any, token: Token, pages: dict[str, tuple[Any, str]], rounds: int = 3) -> None:
    """Sign with the approval automated (click, the agent's window, PIN, approve, the CMS back in the page) on each
    of ``pages`` (name -> (page, button)), alternately, ``rounds`` times; record each one's median (ms)."""
    figures: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(rounds):
        for name, (page, button) in pages.items():
            page.evaluate("b => { delete window.results[b]; }", button)
            # in front, as the page a user clicks in is: Playwright's click waits for the page to paint, and a page
            # behind the other one paints late (seen: ~1.2 s added to every other round without this)
            page.bring_to_front()
            began = time.monotonic()
            decide_in_agent_window(context, lambda page=page, button=button: page.get_by_test_id(button).click(),
                                   pin=token.pin)
            signed = result(page, button)
            figures[name].append((time.monotonic() - began) * 1000)
            assert signed["ok"], dump(signed)
    for name, values in figures.items():
        _record(f"{name}_sign_round_trip_median_ms", sorted(values)[len(values) // 2])


def test_round_trip_figures_beside_our_own_client(context, signing_agent, cades_portal, portal) -> None:
    """One signature, three times each: crypto-pro through /cadesplugin_api.js, and our own JS client."""
    token = signing_agent
    cades, _ = _paired_page(context, cades_portal, token, "/crypto-pro", "certificates")
    ours = open_portal(context, portal, token.agent.port, text=TEXT, cert=token.certificate_id)
    assert pair_through_popup(context, ours)["ok"]
    round_trip_figures(context, token, {"crypto_pro": (cades, "sign-attached"), "signagent_js": (ours, "sign-text")})


# --- the loader ----------------------------------------------------------------------------------------------------

def _loader_outcome(context: Any, portal: CadesPortal, **params: object) -> tuple[dict[str, Any], list[Any]]:
    page = context.new_page()
    page.goto(portal.url("/loader", **params))
    page.wait_for_function("() => window.outcome !== null && window.messages.length > 0", timeout=GUARD_MS)
    return page.evaluate("() => window.outcome"), page.evaluate("() => window.messages")


def test_the_promise_rejects_with_cryptopros_own_strings(context, signing_agent, cades_portal) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    outcome, messages = _loader_outcome(context, cades_portal, port=closed)
    assert outcome == {"ok": False, "error": "Плагин недоступен"} and "cadesplugin_load_error" in messages
    # window.cadesplugin_load_timeout honoured: far shorter than any answer
    outcome, messages = _loader_outcome(context, cades_portal, port=signing_agent.agent.port, timeout=1)
    assert outcome == {"ok": False, "error": "Истекло время ожидания загрузки плагина"}, outcome
    assert "cadesplugin_load_error" in messages
    outcome, messages = _loader_outcome(context, cades_portal, port=signing_agent.agent.port)
    assert outcome == {"ok": True} and "cadesplugin_loaded" in messages


def test_the_agent_serves_the_script_to_any_site(signing_agent) -> None:
    import httpx

    answer = httpx.get(f"{signing_agent.agent.url}/cadesplugin_api.js", headers={"Origin": "https://portal.example"},
                       timeout=GUARD_MS / 1000)
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.content == CADES_JS.read_bytes()


# --- the agent's routes for the layer (a local program: no browser needed) ----------------------------------------

def test_hash_and_cosign_routes_check_their_input(signing_agent) -> None:
    from signagent.gost import streebog256, streebog512

    agent = signing_agent.agent
    data = os.urandom(1000)
    for algorithm, function in (("streebog256", streebog256), ("streebog512", streebog512)):
        answer = agent.client.post("/v1/hash", headers=agent.local(),
                                   json={"content": base64.b64encode(data).decode(), "algorithm": algorithm})
        assert answer.status_code == 200 and answer.json()["digest"] == function(data).hexdigest(), answer.text
    assert agent.client.post("/v1/hash", headers=agent.local(), json={"content": "%%%"}).status_code == 422

    def cosign(body: dict[str, Any]) -> Any:
        return agent.client.post("/v1/cosign", headers=agent.local(),
                                 json={"certificate_id": signing_agent.certificate_id, **body})

    not_cms = cosign({"cms": base64.b64encode(b"not a signature").decode()})
    assert not_cms.status_code == 422 and not_cms.json()["error"]["code"] == "request_invalid", not_cms.text
    unknown = agent.client.post("/v1/cosign", headers=agent.local(),
                                json={"certificate_id": "ab" * 32, "cms": base64.b64encode(b"x").decode()})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "certificate_not_found", unknown.text


def test_the_agent_shows_ucs2le_content_as_text(context, signing_agent, cades_portal) -> None:
    token = signing_agent
    page, _ = _paired_page(context, cades_portal, token, "/samples", "describe")
    with context.expect_page(timeout=GUARD_MS) as opened:
        page.get_by_test_id("sign-detached").click()
    window = opened.value
    window.wait_for_url(re.compile(r"/confirm/[^/?#]+"), timeout=GUARD_MS)
    window.wait_for_load_state()
    shown = " ".join(window.locator("[data-testid=confirm-content]").all_inner_texts())  # no wait: there or not
    click_decision(window, "deny")
    assert TEXT.splitlines()[0] in shown, shown


def test_crypto_pro_lists_five_certificates(context, five_certificates, cades_portal) -> None:
    token = five_certificates
    page, listed = _paired_page(context, cades_portal, token, "/crypto-pro", "certificates")
    # crypto-pro keeps the time-valid ones with a private key: the expired head certificate is left out
    assert len(listed["value"]) == 4 and _thumbprint(token) in {c["thumbprint"] for c in listed["value"]}, listed
    timings = []
    for _ in range(5):  # paired now: the listing alone, five times
        page.evaluate("() => { delete window.results.certificates; }")
        page.get_by_test_id("certificates").click()
        again = result(page, "certificates")
        assert again["ok"] and len(again["value"]) == 4, dump(again)
        timings.append(again["ms"])
    _record("crypto_pro_getUserCertificates_5_certs_median_ms", sorted(timings)[2])
