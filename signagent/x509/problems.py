"""Problems found in a certificate that do not stop it from being read: flagged, never hidden, never fatal.

A wrong check digit in an ИНН, a non-critical extension that does not decode, a duplicated extension... Each is
a :class:`Problem` with a stable ``code`` (other layers and ``--json`` output carry it), the field it concerns and
a message in English and Russian.

Exports: Problem.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    """One flagged issue: stable ``code`` (e.g. ``inn_checksum``), ``field`` and messages for people."""

    code: str
    field: str
    message: str
    message_ru: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"code": self.code, "field": self.field, "message": self.message, "message_ru": self.message_ru}
