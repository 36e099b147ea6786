"""Citizens' accounts: who signed in through the identity provider (VNeID), and their sessions' version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Timestamps, UUIDPk


class CitizenAccount(Base, UUIDPk, Timestamps):
    """One per identity at the provider (``issuer`` + ``sub``); refreshed from the ID token at each sign-in.

    ``id_number`` (the CCCD) is what ties the account to its dossiers (``dossier.applicant_id_number``);
    ``profile`` keeps the other claims the provider gave (birth date, phone, email, address), to prefill the
    submission form. ``token_version`` is carried by the session cookie: signing out raises it, which ends
    every session of the account on every replica (services/core/citizen_session.py)."""

    __tablename__ = "citizen_account"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255), doc="the provider's stable `sub` for this citizen")
    id_number: Mapped[str] = mapped_column(String(20), index=True, doc="12-digit CCCD from the ID token")
    full_name: Mapped[str] = mapped_column(String(200))
    profile: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict, doc="the other claims, for prefill")
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    signed_in_at: Mapped[datetime | None] = mapped_column(doc="the last sign-in")
