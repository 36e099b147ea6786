"""Signed documents and the demo signing keys (issue 16 §2, services/core/signing.py).

``signed_document`` is the register of every PDF Một Cửa signed: its id is printed in the receipt's
verification link and is the signature's field name (``MotCua-<id>``), so a QR code or an uploaded copy
leads back to what was issued — the dossier, the agency, when, by which certificate and the SHA-256 of
the signed bytes. The signed PDF itself is not kept for a receipt (it carries the citizen's secret); a
signed result is the result ``document`` row's file, and the unsigned original staff uploaded stays
beside it (``original_path``), served by no route.

``signing_key`` holds the demo CA and the demo agencies' keys, made on first use by whichever process
needs one first (``INSERT … ON CONFLICT DO NOTHING``, then read back: every replica signs with the same
keys). The private key is sealed (AES-256-GCM under the ``signing-demo-key`` purpose key). Production keys
are never stored here: they come from files or a token (``MOTCUA_SIGNING_*``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Timestamps, UUIDPk


class SignedDocument(Base, UUIDPk, Timestamps):
    """One signature Một Cửa put on a PDF: a receipt (Mẫu 01) or a result."""

    __tablename__ = "signed_document"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True, doc="the result's document row; None: a receipt"
    )
    agency_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agency.id"), doc="the agency whose key signed")
    kind: Mapped[str] = mapped_column(String(16), doc="receipt or result")
    sha256: Mapped[str] = mapped_column(String(64), index=True, doc="of the signed PDF as issued")
    signed_at: Mapped[datetime]
    signer: Mapped[str] = mapped_column(String(500), doc="the certificate's subject")
    demo: Mapped[bool] = mapped_column(default=False, doc="signed with a demo key (chữ ký thử nghiệm)")
    original_path: Mapped[str | None] = mapped_column(String(500), doc="a result's unsigned upload (staff only)")
    original_sha256: Mapped[str | None] = mapped_column(String(64))


class SigningKey(Base, UUIDPk, Timestamps):
    """A demo key and its certificate: ``demo-ca`` or ``demo-agency:<agency code>``."""

    __tablename__ = "signing_key"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_key: Mapped[str] = mapped_column(Text, doc="the PKCS#8 key, sealed")
