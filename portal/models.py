"""The portal's storage: SQLAlchemy 2 ORM models (the schema itself is made by the Alembic migrations in
``portal/migrations``; these classes only map it).

* :class:`User` -- a person who logged in with a qualified certificate, keyed by the certificate's identity (СНИЛС,
  else the personal ИНН); the «Мой профиль» fields are optional.
* :class:`Organisation` -- a registered legal entity or entrepreneur: the requisites the verifier accepted, the
  whole signed request (canonical JSON) and its CMS, kept as evidence.
* :class:`Subdivision` -- a separate subdivision (филиал, представительство, other) of an organisation.
* :class:`Membership` -- a user in an organisation (or one of its subdivisions) with roles; the status follows the
  roles: none yet -> «Ожидает» (``pending``), some -> «Активный» (``active``), all removed -> «Удален»
  (``removed``).
* :class:`Document` -- an organisation document (type, number, date, expiry, file); :class:`ExchangeProfile` -- an
  information-exchange profile (IS name and code + certificate) which may cite a document: a cited document is
  "attached" and cannot be deleted.

Exports: Base, User, Organisation, Subdivision, Membership, Document, ExchangeProfile, ROLES, ROLE_ADMIN,
STATUS_PENDING, STATUS_ACTIVE, STATUS_REMOVED.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from signagent.registration.nonces import nonce_table

__all__ = [
    "ROLES",
    "ROLE_ADMIN",
    "STATUS_ACTIVE",
    "STATUS_PENDING",
    "STATUS_REMOVED",
    "Base",
    "Document",
    "ExchangeProfile",
    "Membership",
    "Organisation",
    "Subdivision",
    "User",
]

ROLE_ADMIN = "admin"
#: Role keys and their names (Russian, English), in the order the pages show them.
ROLES: dict[str, tuple[str, str]] = {
    ROLE_ADMIN: ("Администратор организации", "Organisation administrator"),
    "dmdk": ("Участник ДМДК", "DMDK participant"),
    "batches": ("Операции с партиями", "Batch operations"),
    "applications": ("Работа с заявлениями", "Applications"),
}
STATUS_PENDING, STATUS_ACTIVE, STATUS_REMOVED = "pending", "active", "removed"


class Base(DeclarativeBase):
    pass


#: The verifier's nonce store keeps its nonces in the portal's database: its table is part of the schema.
NONCES = nonce_table(Base.metadata)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identity: Mapped[str] = mapped_column(String(64), unique=True)  # "snils:..." or "inn:..."
    full_name: Mapped[str] = mapped_column(String(300))
    inn: Mapped[str | None] = mapped_column(String(12))
    snils: Mapped[str | None] = mapped_column(String(11))
    certificate_id: Mapped[str | None] = mapped_column(String(128))  # the last certificate the user logged in with
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    position: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "legal" | "entrepreneur"
    ogrn: Mapped[str] = mapped_column(String(15), unique=True)  # ОГРН, or ОГРНИП for an entrepreneur
    inn: Mapped[str] = mapped_column(String(12))
    kpp: Mapped[str | None] = mapped_column(String(9))
    name: Mapped[str] = mapped_column(String(1000))
    short_name: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    request: Mapped[dict] = mapped_column(JSON)  # type: ignore[type-arg]  # the accepted request, parsed
    signed_request: Mapped[bytes] = mapped_column(LargeBinary)  # the CMS the verifier accepted (evidence)
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    subdivisions: Mapped[list[Subdivision]] = relationship(back_populates="organisation", order_by="Subdivision.id")
    memberships: Mapped[list[Membership]] = relationship(back_populates="organisation")


class Subdivision(Base):
    __tablename__ = "subdivisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))  # its position/key in the signed request
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(1000))
    kpp: Mapped[str | None] = mapped_column(String(9))
    address: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship(back_populates="subdivisions")


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", name="uq_membership_user_organisation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    subdivision_id: Mapped[int | None] = mapped_column(ForeignKey("subdivisions.id", ondelete="SET NULL"))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    signed_request: Mapped[bytes | None] = mapped_column(LargeBinary)  # the employee's signed join request
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    subdivision: Mapped[Subdivision | None] = relationship()


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    doc_type: Mapped[str] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExchangeProfile(Base):
    __tablename__ = "exchange_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    subdivision_id: Mapped[int | None] = mapped_column(ForeignKey("subdivisions.id", ondelete="CASCADE"))
    system_name: Mapped[str] = mapped_column(String(300))
    system_code: Mapped[str] = mapped_column(String(100))
    certificate_id: Mapped[str] = mapped_column(String(128))  # the agent's id: Streebog-256 thumbprint, hex
    certificate: Mapped[bytes | None] = mapped_column(LargeBinary)  # DER, as the agent's list gave it
    certificate_owner: Mapped[str | None] = mapped_column(String(300))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    subdivision: Mapped[Subdivision | None] = relationship()
    document: Mapped[Document | None] = relationship()
