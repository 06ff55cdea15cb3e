"""The portal's first schema: users, organisations, subdivisions, memberships, documents, exchange profiles,
and the verifier's nonces.

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # the verifier's nonce store (signagent.registration.nonces.nonce_table), frozen here as of this revision
    op.create_table(
        "registration_nonces",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("origin", sa.String(2048), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        _when("issued_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
    )
    op.create_index("ix_registration_nonces_expires_at", "registration_nonces", ["expires_at"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("identity", sa.String(64), nullable=False, unique=True),
        sa.Column("full_name", sa.String(300), nullable=False),
        sa.Column("inn", sa.String(12)),
        sa.Column("snils", sa.String(11)),
        sa.Column("certificate_id", sa.String(128)),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(40)),
        sa.Column("position", sa.String(200)),
        sa.Column("department", sa.String(200)),
        _when("created_at"),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ogrn", sa.String(15), nullable=False, unique=True),
        sa.Column("inn", sa.String(12), nullable=False),
        sa.Column("kpp", sa.String(9)),
        sa.Column("name", sa.String(1000), nullable=False),
        sa.Column("short_name", sa.String(500)),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(40)),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("signed_request", sa.LargeBinary, nullable=False),
        sa.Column("registered_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        _when("registered_at"),
        _when("updated_at"),
    )
    op.create_index("ix_organisations_inn", "organisations", ["inn"])
    op.create_table(
        "subdivisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisations.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(1000), nullable=False),
        sa.Column("kpp", sa.String(9)),
        sa.Column("address", sa.Text),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisations.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("subdivision_id", sa.Integer, sa.ForeignKey("subdivisions.id", ondelete="SET NULL")),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("signed_request", sa.LargeBinary),
        _when("created_at"),
        sa.UniqueConstraint("user_id", "organisation_id", name="uq_membership_user_organisation"),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisations.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("doc_type", sa.String(200), nullable=False),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("uploaded_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        _when("uploaded_at"),
    )
    op.create_table(
        "exchange_profiles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organisation_id", sa.Integer, sa.ForeignKey("organisations.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("subdivision_id", sa.Integer, sa.ForeignKey("subdivisions.id", ondelete="CASCADE")),
        sa.Column("system_name", sa.String(300), nullable=False),
        sa.Column("system_code", sa.String(100), nullable=False),
        sa.Column("certificate_id", sa.String(128), nullable=False),
        sa.Column("certificate", sa.LargeBinary),
        sa.Column("certificate_owner", sa.String(300)),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="RESTRICT")),
        _when("created_at"),
    )


def downgrade() -> None:
    for table in ("exchange_profiles", "documents", "memberships", "subdivisions", "organisations", "users",
                  "registration_nonces"):
        op.drop_table(table)
