"""What support asks a user for when a portal cannot see the agent or a token (``GET /v1/diagnostics``): one
JSON-ready report of the agent, its PKCS#11 modules, PC/SC, the trust store and its state directory.

Each part is a probe of its own: a probe that fails gets an ``error`` (the typed error's ``to_dict()``, or
``internal_error`` with the exception's type only) and the others still report. Nothing secret is ever in the
report: not the local secret, no PIN, no key, no pairing origin (only how many sites are paired).

* ``agent`` -- version, Python, platform, GOST backend;
* ``config`` -- the configuration file and the settings that matter here;
* ``pkcs11`` -- the modules configured (configuration and ``$SIGNAGENT_PKCS11_MODULES``) and found at the vendors'
  usual paths, each one loaded or not (with the error), its description and present tokens (label, serial,
  model);
* ``pcsc`` -- pyscard present?, the PC/SC service (pcscd) reachable?, the readers with card presence, ATR, model
  and whether another program holds them exclusively, the busy timeout;
* ``trust_store`` -- path, number of roots, intermediates and CRLs, the latest CRL ``next_update`` and how many
  CRLs are past theirs;
* ``state`` -- the state directory, whether the local secret exists (never its value), the number of paired sites.

:func:`public_view` is the reduced view for a paired site: counts and yes/no only -- no path, name, serial or ATR.

Exports: diagnostics, public_view.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signagent.errors import SignAgentError

if TYPE_CHECKING:
    from .config import Config

__all__ = ["diagnostics", "public_view"]


def _probe(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``run()``'s report, or ``{"error": ...}`` when it raised (a typed error whole; anything else by type only,
    since its message could carry anything)."""
    try:
        return run()
    except SignAgentError as exc:
        return {"error": exc.to_dict()}
    except Exception as exc:
        return {"error": {"code": "internal_error", "message": f"{type(exc).__name__} in the probe",
                          "message_ru": f"{type(exc).__name__} при проверке", "retriable": False}}


def _agent() -> dict[str, Any]:
    from signagent import __version__
    from signagent.gost import backend_name

    return {"version": __version__, "python": platform.python_version(),
            "implementation": sys.implementation.name, "platform": platform.platform(),
            "gost_backend": backend_name()}


def _config(config: Config) -> dict[str, Any]:
    return {"file": None if config.file is None else str(config.file), "api_host": config.api_host,
            "api_port": config.api_port, "keys_dir": str(config.keys_dir), "revocation": config.revocation,
            "offline": config.offline}


def _pkcs11(config: Config) -> dict[str, Any]:
    from signagent.tokens.pkcs11 import MODULES_ENV, Pkcs11Module, default_module_paths, discover_modules

    configured = [p for p in os.environ.get(MODULES_ENV, "").split(os.pathsep) if p.strip()]
    configured += list(config.pkcs11_modules)
    defaults = set(default_module_paths())
    modules = []
    for path in discover_modules(config.pkcs11_modules):
        row: dict[str, Any] = {"path": path, "origin": "found" if path in defaults else "configured",
                               "loaded": False, "description": None, "tokens": [], "error": None}
        try:
            with Pkcs11Module(path) as module:
                row["loaded"] = True
                row["description"] = module.description
                row["tokens"] = [{"label": t.label, "serial": t.serial, "model": t.model} for t in module.tokens()]
        except SignAgentError as exc:
            row["error"] = exc.to_dict()
        modules.append(row)
    return {"configured": configured, "modules": modules,
            "loaded": sum(m["loaded"] for m in modules), "tokens": sum(len(m["tokens"]) for m in modules)}


def _pcsc() -> dict[str, Any]:
    from signagent.tokens import pcsc

    out: dict[str, Any] = {"pyscard": False, "pyscard_version": None, "service": False, "readers": [],
                           "cards_present": 0, "busy_timeout": pcsc.busy_timeout(), "error": None}
    try:
        import smartcard

        out["pyscard"] = True
        out["pyscard_version"] = getattr(smartcard, "__version__", None)
    except ImportError:
        return out
    try:
        states = pcsc.reader_states()
    except pcsc.PcscUnavailableError as exc:  # pcscd not running: the answer support needs, not a failure
        out["error"] = exc.to_dict()
        return out
    out["service"] = True
    out["readers"] = [{"name": s.name, "present": s.present, "atr": s.atr.hex().upper() if s.atr else None,
                       "model": s.model_name, "in_use": s.in_use} for s in states]
    out["cards_present"] = sum(s.present for s in states)
    return out


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _trust_store(config: Config, now: datetime) -> dict[str, Any]:
    from signagent.trust.store import TrustStore

    store = TrustStore(config.trust_dir)
    entries = store.list()
    crls = [e for e in entries if e.kind == "crl"]
    updates = [(moment, e.next_update) for e in crls if (moment := _parse_time(e.next_update)) is not None]
    return {"path": str(store.path), "exists": store.path.is_dir(),
            "roots": sum(e.kind == "root" for e in entries),
            "intermediates": sum(e.kind == "intermediate" for e in entries),
            "crls": len(crls),
            "latest_crl_next_update": max(updates)[1] if updates else None,
            "crls_past_next_update": sum(moment < now for moment, _ in updates)}


def _state(state_dir: Path) -> dict[str, Any]:
    from .local_secret import SECRET_FILE
    from .pairing import PairingStore

    return {"directory": str(state_dir), "exists": state_dir.is_dir(),
            "local_secret_present": (state_dir / SECRET_FILE).is_file(),
            "paired_sites": len(PairingStore(state_dir).list())}


def diagnostics(config: Config, state_dir: str | os.PathLike[str], *, now: datetime | None = None
                ) -> dict[str, Any]:
    """The report (see the module docstring) for ``config`` and the agent's ``state_dir``; ``now`` (UTC) tells
    which CRLs are past their next update. Loads the PKCS#11 modules and talks to pcscd: it takes a moment."""
    moment = now or datetime.now(UTC)
    return {
        "generated_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "agent": _probe(_agent),
        "config": _probe(lambda: _config(config)),
        "pkcs11": _probe(lambda: _pkcs11(config)),
        "pcsc": _probe(_pcsc),
        "trust_store": _probe(lambda: _trust_store(config, moment)),
        "state": _probe(lambda: _state(Path(state_dir))),
    }


def public_view(report: dict[str, Any]) -> dict[str, Any]:
    """What a paired site may see of a report: versions and counts, whether PC/SC works -- nothing that names a
    file, a reader, a token or the user. A part whose probe failed shows only ``"error": true``."""
    def part(name: str, keys: tuple[str, ...]) -> dict[str, Any]:
        found = report.get(name) or {}
        if "error" in found and found.get("error") and not set(keys) & set(found):
            return {"error": True}
        return {k: found.get(k) for k in keys}

    pkcs11 = report.get("pkcs11") or {}
    modules = pkcs11.get("modules") or []
    return {
        "view": "public",
        "agent": part("agent", ("version", "gost_backend")),
        "pkcs11": {"modules_loaded": pkcs11.get("loaded", 0), "modules_failed": sum(not m["loaded"] for m in modules),
                   "tokens": pkcs11.get("tokens", 0)} if "modules" in pkcs11 else {"error": True},
        "pcsc": {**part("pcsc", ("pyscard", "service", "cards_present")),
                 "readers": len((report.get("pcsc") or {}).get("readers") or [])},
        "trust_store": part("trust_store", ("roots", "intermediates", "crls", "crls_past_next_update")),
    }
