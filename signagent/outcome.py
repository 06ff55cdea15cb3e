"""The outcome vocabulary every check shares: a :class:`Reason`, one status ranking, one exit-code mapping.

A verification returns a value, never an exception (DESIGN.md section 2, error model): ``valid``, ``invalid`` or
``indeterminate``, with the reasons for it. Certificate problems (:attr:`signagent.x509.Certificate.problems`),
chain validation (:mod:`signagent.trust.report`) and CMS verification (:mod:`signagent.cms.report`) all speak in
the one :class:`Reason` type defined here; each layer keeps its own table of codes (:class:`ReasonTable`), whose
codes are stable (``--json`` output and portals rely on them; never rename one).

* **Severity.** A reason knows the verdict it gives when it counts against a result: ``invalid`` (the data say
  no), or ``indeterminate`` (more data or support could change the answer: a missing issuer, unknown revocation
  status, an unsupported algorithm). The same reason may also be only a warning (soft revocation checking), which
  counts against nothing.
* **Ranking.** ``valid < indeterminate < invalid``: the status of a set of reasons is the worst severity among
  them (``valid`` when there are none), and a whole is as bad as its worst part (:func:`worst`).
* **Exit codes** (DESIGN.md section 3): 0 valid, 1 invalid, 2 indeterminate (:func:`exit_code`).

Exports: Status, Severity, Reason, ReasonTable, STATUSES, rank, worst, status_of, exit_code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as _field  # the name ``field`` is one of Reason's attributes
from datetime import datetime
from typing import Any, Literal, Protocol

from signagent.errors import fill_template

__all__ = ["STATUSES", "Reason", "ReasonTable", "Severity", "Status", "exit_code", "rank", "status_of", "worst"]

Status = Literal["valid", "invalid", "indeterminate"]
Severity = Literal["invalid", "indeterminate"]

#: Every status, best first: the one ranking of outcomes.
STATUSES: tuple[Status, ...] = ("valid", "indeterminate", "invalid")
_RANK = {status: i for i, status in enumerate(STATUSES)}
_EXIT_CODES = {"valid": 0, "invalid": 1, "indeterminate": 2}


@dataclass(frozen=True)
class Reason:
    """Why a check failed, or what to know: a stable ``code``, messages in English and Russian, the ``severity``
    it gives when it counts against a result, and where it applies.

    ``scope`` says which part of a report it comes from (a CMS report: ``signature`` or ``chain``), ``field`` the
    certificate field a certificate problem concerns, ``certificate`` / ``subject`` the certificate (SHA-1
    thumbprint, subject name) a chain reason is about, ``details`` the values its messages were filled with.
    """

    code: str
    message: str
    message_ru: str
    severity: Severity = "invalid"
    scope: str | None = None
    field: str | None = None
    certificate: str | None = None
    subject: str | None = None
    details: Mapping[str, str] = _field(default_factory=dict)

    def in_scope(self, scope: str) -> Reason:
        """The same reason placed in ``scope`` (a chain reason carried into a CMS report keeps its code)."""
        return replace(self, scope=scope)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: code, then scope and field when set, the messages, then what it concerns."""
        out: dict[str, Any] = {"code": self.code}
        if self.scope is not None:
            out["scope"] = self.scope
        if self.field is not None:
            out["field"] = self.field
        out["message"] = self.message
        out["message_ru"] = self.message_ru
        if self.certificate:
            out["certificate"] = self.certificate
        if self.subject:
            out["subject"] = self.subject
        if self.details:
            out["details"] = dict(self.details)
        return out


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%SZ")
    return str(value)


class ReasonTable:
    """One layer's codes: code -> (English template, Russian template), the codes of severity
    ``indeterminate``, and the scope its reasons carry. Calling the table builds a :class:`Reason`."""

    def __init__(self, messages: Mapping[str, tuple[str, str]], indeterminate: Iterable[str] = (),
                 scope: str | None = None) -> None:
        self.messages = dict(messages)
        self.indeterminate = frozenset(indeterminate)
        self.scope = scope

    def severity(self, code: str) -> Severity:
        """``indeterminate`` for the table's indeterminate codes, else ``invalid``."""
        return "indeterminate" if code in self.indeterminate else "invalid"

    def __call__(self, code: str, *, certificate: str | None = None, subject: str | None = None,
                 **details: object) -> Reason:
        """The :class:`Reason` for ``code`` with its messages filled from ``details`` (times as
        ``YYYY-MM-DD HH:MM:SSZ``). KeyError for a code the table does not have."""
        en, ru = self.messages[code]
        text = {k: _text(v) for k, v in details.items()}
        return Reason(code, fill_template(en, text), fill_template(ru, text), self.severity(code), self.scope,
                      None, certificate, subject, text)


def rank(status: Status) -> int:
    """Position of ``status`` in the ranking (valid 0, indeterminate 1, invalid 2)."""
    return _RANK[status]


def worst(*statuses: Status) -> Status:
    """The worst of ``statuses`` (valid < indeterminate < invalid); ``valid`` for none."""
    return max(statuses, key=_RANK.__getitem__, default="valid")


def status_of(reasons: Iterable[Reason]) -> Status:
    """The status a set of reasons gives: ``valid`` with none, else the worst of their severities."""
    return worst(*(r.severity for r in reasons))


class _HasStatus(Protocol):
    status: Status


def exit_code(outcome: _HasStatus | Status) -> int:
    """The exit status of a result (anything with a ``status``, or a status): 0 valid, 1 invalid,
    2 indeterminate (DESIGN.md section 3)."""
    status = outcome if isinstance(outcome, str) else outcome.status
    return _EXIT_CODES[status]
