"""Who is looking, and what they may do: every page and action of the portal calls :func:`require` on the
server; the pages' links only mirror it.

The viewer's membership is the one that is not «Удален» (a user belongs to one organisation at a time); roles
count only while the membership is «Активный».

Exports: Viewer, Denied, require.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import ROLES, STATUS_ACTIVE, STATUS_REMOVED, Membership, Organisation, User

__all__ = ["Denied", "Viewer", "require"]


class Denied(Exception):
    """Refused: not logged in (``login_required``) or without the role the page or action needs."""

    def __init__(self, code: str, message: str, message_ru: str) -> None:
        super().__init__(message)
        self.code, self.message, self.message_ru = code, message, message_ru


@dataclass
class Viewer:
    user: User | None
    membership: Membership | None

    @classmethod
    def of(cls, user: User | None) -> Viewer:
        if user is None:
            return cls(None, None)
        current = [m for m in user.memberships if m.status != STATUS_REMOVED]
        removed = [m for m in user.memberships if m.status == STATUS_REMOVED]
        return cls(user, (current or removed or [None])[0])

    @property
    def organisation(self) -> Organisation | None:
        m = self.membership
        return m.organisation if m is not None and m.status == STATUS_ACTIVE else None

    @property
    def roles(self) -> list[str]:
        m = self.membership
        return list(m.roles) if m is not None and m.status == STATUS_ACTIVE else []

    def has(self, role: str) -> bool:
        return role in self.roles


def require(who: Viewer, *any_of: str) -> Viewer:
    """``who`` when logged in and, if roles are named, holding at least one of them in an active membership."""
    if who.user is None:
        raise Denied("login_required", "Log in with your certificate", "Войдите с помощью сертификата")
    if any_of and not any(who.has(role) for role in any_of):
        names = ", ".join(f"«{ROLES[r][0]}»" for r in any_of)
        names_en = ", ".join(ROLES[r][1] for r in any_of)
        raise Denied("role_required", f"This needs the role {names_en}", f"Для этого нужна роль {names}")
    return who
