"""``signagent serve --demo``: a simulated head-of-organisation token, made once, and the demo portal's verifier.

* :func:`prepare_demo` -- idempotent: in the demo directory (default: the user data directory ``signagent-demo``,
  the one ``scripts/demo.sh`` uses) makes, once, the software token "Demo Head" (the simulator's ``head`` profile:
  a qualified certificate of an organisation's head issued by the project's test PKI) and, from the same test
  PKI, "Demo Employee" and "Demo Entrepreneur" (for the reference portal's registration demo), with the demo
  PIN 1234 and a random SO PIN kept in files readable by the user only. It returns what the agent needs: the
  environment of the token layer (the simulator's PKCS#11 module, its token directory, a key directory of its
  own) and the demo's trust anchors (the test root and intermediate, so that the demo certificate's chain shows
  valid).
* :func:`load_trust` -- those anchors as certificates, for the agent's inventory and the demo portal's verifier.
* :func:`verify_demo_signature` -- what a portal's backend does with a signature the page brings back: verifies
  the CAdES-BES signature against the demo PKI and answers valid / invalid, the signer and the signing time.

The simulator is used as a separate program (``python -m pkcs11_sim provision``), as any tester would: signagent
never imports it (DESIGN.md section 2), it loads its module file like any vendor PKCS#11 module.

Exports: DEMO_LABEL, DEMO_PIN, DEMO_PEOPLE, DemoSetup, DemoSetupError, default_demo_dir, prepare_demo, load_trust,
verify_demo_signature.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signagent.errors import SignAgentError
from signagent.fileio import write_atomic

if TYPE_CHECKING:
    from signagent.x509 import Certificate

__all__ = [
    "DEMO_LABEL",
    "DEMO_PEOPLE",
    "DEMO_PIN",
    "DemoSetup",
    "DemoSetupError",
    "default_demo_dir",
    "load_trust",
    "prepare_demo",
    "verify_demo_signature",
]

#: The demo token's label and PIN: the PIN is shown to the user (terminal and demo page), it protects nothing real.
DEMO_LABEL = "Demo Head"
#: The other people of the demo, each on a token of their own issued by the head token's test PKI (one CA, so one
#: trust anchor for the agent and the reference portal): profile -> token label. Same PIN.
DEMO_PEOPLE = {"employee": "Demo Employee", "ip": "Demo Entrepreneur"}
DEMO_PIN = "1234"
_PROFILE = "head"
_STATE_FILE = "demo.json"  # what provisioning answered, so that a second start reuses the token without asking
_PROVISION_TIMEOUT = 300.0  # seconds: only reached when something is broken (provisioning takes about one)
_PROBE_TIMEOUT = 60.0


class DemoSetupError(SignAgentError):
    """The demo could not be prepared (the simulator failed, or the demo directory is unusable)."""

    code = "demo_setup_failed"


@dataclass(frozen=True)
class DemoSetup:
    """A prepared demo: where it lives, its token, and what the agent must be given to see and trust it."""

    demo_dir: Path
    label: str
    pin: str
    pin_file: Path
    token_dir: Path
    module_path: str
    certificate_id: str
    trust_roots: tuple[Path, ...]
    intermediates: tuple[Path, ...]
    provisioned: bool  # True: the token was prepared by this call; False: an earlier one's was reused
    environment: Mapping[str, str] = field(default_factory=dict)
    #: the other demo tokens: profile -> {"label", "token_dir", "certificate_id"}
    people: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def pki_dir(self) -> Path:
        """The demo's test PKI (certificates, CRLs in ``crl/``, the CA keys): the head token's ``test-ca``."""
        return self.token_dir / "test-ca"

    @property
    def state_dir(self) -> Path:
        """The demo agent's own state directory (its local secret and paired sites), apart from the user's."""
        return self.demo_dir / "state"

    def apply(self, environ: MutableMapping[str, str] | None = None) -> None:
        """Put :attr:`environment` into ``environ`` (default: this process's, before the token layer loads)."""
        target = os.environ if environ is None else environ
        target.update(self.environment)


def default_demo_dir() -> Path:
    """The user data directory ``signagent-demo`` (``${XDG_DATA_HOME:-~/.local/share}/signagent-demo`` on Linux),
    as ``scripts/demo.sh`` uses it."""
    import platformdirs

    return Path(platformdirs.user_data_dir("signagent-demo", appauthor=False))


def _failed(detail: object) -> DemoSetupError:
    return DemoSetupError(detail=" ".join(str(detail).split())[:300])


def _secret_file(path: Path, value: str) -> None:
    """``value`` in ``path`` (one line, mode 0600); rewritten only when it differs."""
    data = f"{value}\n".encode()
    try:
        if not path.is_file() or path.read_bytes() != data:
            write_atomic(path, data, mode=0o600)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise _failed(f"{path}: {exc.strerror or exc}") from None


def _run(args: Sequence[str], env: Mapping[str, str], timeout: float) -> str:
    """stdout of ``python args...``; DemoSetupError with the program's last error line when it fails."""
    try:
        done = subprocess.run([sys.executable, *args], env=dict(env), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _failed(exc) from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise _failed(lines[-1] if lines else f"exit status {done.returncode}")
    return done.stdout


def _module_path(env: Mapping[str, str]) -> str:
    """The simulator's PKCS#11 module file, as its package reports it (asked in a child process: no import here)."""
    path = _run(["-c", "import pkcs11_sim; print(pkcs11_sim.module_path())"], env, _PROBE_TIMEOUT).strip()
    if not path or not Path(path).is_file():
        raise _failed(f"the simulator's PKCS#11 module was not found ({path or 'no path'})")
    return path


def _reusable(state_file: Path) -> dict[str, str] | None:
    """The answer of an earlier provisioning, when every file it names is still there."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    needed = ("token_dir", "root_certificate", "intermediate_certificate", "certificate_id")
    if not isinstance(state, dict) or not all(isinstance(state.get(k), str) and state[k] for k in needed):
        return None
    token_dir = Path(state["token_dir"])
    files = (token_dir / "token.json", Path(state["root_certificate"]), Path(state["intermediate_certificate"]))
    return state if all(f.is_file() for f in files) else None


def prepare_demo(demo_dir: str | os.PathLike[str] | None = None, *,
                 environ: Mapping[str, str] | None = None) -> DemoSetup:
    """Make the demo token once in ``demo_dir`` (default :func:`default_demo_dir`) and say how to use it.

    Idempotent: a second call finds the token of the first (or the one ``scripts/demo.sh`` made in the same
    directory) and changes nothing. ``environ`` is the environment the simulator runs in (default: this process's).
    Raises :class:`DemoSetupError` when the simulator fails or the directory cannot be used.
    """
    base = Path(demo_dir) if demo_dir is not None else default_demo_dir()
    base = Path(os.path.abspath(base))
    tokens, keys = base / "tokens", base / "keys"
    try:
        for directory in (base, tokens, keys):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(base, 0o700)  # the PIN files and the tokens are the user's alone
    except OSError as exc:
        raise _failed(f"{base}: {exc.strerror or exc}") from None
    pin_file, so_pin_file = base / "pin", base / "so-pin"
    _secret_file(pin_file, DEMO_PIN)
    if not so_pin_file.is_file():  # made once; a token made earlier keeps the SO PIN it was made with
        _secret_file(so_pin_file, secrets.token_hex(8))
    env = {**(os.environ if environ is None else environ), "PKCS11_SIM_DIR": str(tokens)}
    for name in ("PKCS11_SIM_PIN", "PKCS11_SIM_SO_PIN"):  # the files say the PINs; a stray variable must not
        env.pop(name, None)
    state_file = base / _STATE_FILE
    state = _reusable(state_file)
    provisioned = state is None
    if state is None:
        out = _run(["-m", "pkcs11_sim", "provision", "--label", DEMO_LABEL, "--pin-file", str(pin_file),
                    "--so-pin-file", str(so_pin_file), "--profile", _PROFILE, "--json"], env, _PROVISION_TIMEOUT)
        try:
            answer = json.loads(out)
        except ValueError:
            raise _failed("the simulator's provisioning answered no JSON") from None
        state = {k: str(answer.get(k, "")) for k in ("token_dir", "root_certificate", "intermediate_certificate",
                                                     "certificate_id", "label")}
        try:
            write_atomic(state_file, json.dumps(state, indent=2).encode(), mode=0o600)
        except OSError as exc:
            raise _failed(f"{state_file}: {exc.strerror or exc}") from None
        if _reusable(state_file) is None:
            raise _failed("the simulator's provisioning did not make the demo token")
    people = _provision_people(base, state, env, pin_file, so_pin_file)
    module = _module_path(env)
    # The user's own extra modules stay loaded beside the simulator's; the key directory is the demo's own.
    others = [p for p in env.get("SIGNAGENT_PKCS11_MODULES", "").split(os.pathsep) if p.strip() and p != module]
    environment = {"PKCS11_SIM_DIR": str(tokens), "SIGNAGENT_PKCS11_MODULES": os.pathsep.join([module, *others]),
                   "SIGNAGENT_KEYS_DIR": str(keys)}
    return DemoSetup(demo_dir=base, label=DEMO_LABEL, pin=DEMO_PIN, pin_file=pin_file,
                     token_dir=Path(state["token_dir"]), module_path=module, certificate_id=state["certificate_id"],
                     trust_roots=(Path(state["root_certificate"]),),
                     intermediates=(Path(state["intermediate_certificate"]),), provisioned=provisioned,
                     environment=environment, people=people)


_PEOPLE_FILE = "people.json"


def _provision_people(base: Path, head: Mapping[str, str], env: Mapping[str, str], pin_file: Path,
                      so_pin_file: Path) -> dict[str, dict[str, str]]:
    """The employee's and the entrepreneur's tokens (:data:`DEMO_PEOPLE`), made once from the head token's test
    PKI; what was made is kept in ``people.json`` like the head token's state."""
    state_file = base / _PEOPLE_FILE
    try:
        known = json.loads(state_file.read_text(encoding="utf-8")) if state_file.is_file() else {}
    except (OSError, ValueError):
        known = {}
    people: dict[str, dict[str, str]] = {}
    pki = Path(head["token_dir"]) / "test-ca"
    for profile, label in DEMO_PEOPLE.items():
        entry = known.get(profile) if isinstance(known, dict) else None
        if isinstance(entry, dict) and Path(str(entry.get("token_dir", ""))).joinpath("token.json").is_file():
            people[profile] = {k: str(entry[k]) for k in ("label", "token_dir", "certificate_id") if k in entry}
            continue
        out = _run(["-m", "pkcs11_sim", "provision", "--label", label, "--pin-file", str(pin_file), "--so-pin-file",
                    str(so_pin_file), "--profile", profile, "--pki", str(pki), "--json"], env, _PROVISION_TIMEOUT)
        try:
            answer = json.loads(out)
        except ValueError:
            raise _failed("the simulator's provisioning answered no JSON") from None
        people[profile] = {"label": label, "token_dir": str(answer.get("token_dir", "")),
                           "certificate_id": str(answer.get("certificate_id", ""))}
    try:
        write_atomic(state_file, json.dumps(people, indent=2).encode(), mode=0o600)
    except OSError as exc:
        raise _failed(f"{state_file}: {exc.strerror or exc}") from None
    return people


def load_trust(setup: DemoSetup) -> tuple[list[Certificate], list[Certificate]]:
    """The demo's trust anchors and intermediates as certificates (roots, intermediates)."""
    from .validation import load_certificate_paths

    return load_certificate_paths(setup.trust_roots), load_certificate_paths(setup.intermediates)


def _signer_summary(signer: Any) -> dict[str, object]:
    cert = signer.certificate
    identity = cert.identity if cert is not None else None
    name = None
    if identity is not None:
        name = identity.full_name or identity.common_name
    return {
        "status": signer.status,
        "name": name,
        "organisation": identity.organization if identity is not None else None,
        "title": identity.title if identity is not None else None,
        "ogrn": identity.ogrn if identity is not None else None,
        "inn": identity.personal_inn if identity is not None else None,
        "subject": cert.subject.display if cert is not None else None,
        "issuer": cert.issuer.display if cert is not None else None,
        "signing_time": signer.signing_time.isoformat() if isinstance(signer.signing_time, datetime) else None,
        "signing_time_source": signer.signing_time_source,
        "reasons": [{"code": r.code, "message": r.message, "message_ru": r.message_ru} for r in signer.reasons],
    }


def verify_demo_signature(data: bytes, *, trust_roots: Iterable[object], intermediates: Iterable[object] = ()
                          ) -> dict[str, object]:
    """Verify the attached CAdES-BES signature ``data`` (DER, PEM or base64) against ``trust_roots``: a
    JSON-ready summary ``{status, valid, signers: [{status, name, organisation, signing_time, reasons...}],
    reasons, report}`` (``report``: the full report, as ``signagent verify --json`` prints it).

    The test PKI publishes no revocation data, so revocation is not checked and the network is not used. Raises
    the CMS errors of the tree for malformed input (CmsFormatError) or a detached signature
    (CmsContentMissingError); never for a bad signature.
    """
    from signagent.cms.verification import verify
    from signagent.trust.validation import validate

    roots, more = list(trust_roots), list(intermediates)

    def validate_chain(cert: Any, others: Sequence[Any], moment: datetime | None) -> Any:
        return validate(cert, trust_roots=roots, intermediates=[*others, *more], at=moment, offline=True,
                        revocation="off")

    report = verify(bytes(data), validate_chain=validate_chain)
    return {
        "status": report.status,
        "valid": report.status == "valid",
        "signers": [_signer_summary(s) for s in report.signers],
        "reasons": [{"code": r.code, "message": r.message, "message_ru": r.message_ru} for r in report.reasons],
        "report": report.to_dict(),
    }
