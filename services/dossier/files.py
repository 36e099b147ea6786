"""Uploaded documents: type sniffed from the content, size-limited, stored under FILES_DIR with a
SHA-256 checksum; served only through an authorised endpoint."""

from __future__ import annotations

import hashlib
import os
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path

from services.core.errors import PayloadTooLarge, Unprocessable

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 20

_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
_DOCX = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    storage_path: str


def sniff(content: bytes) -> tuple[str, str]:
    """The content type and extension the bytes really are; PDF, PNG, JPEG or DOCX only."""
    for magic, content_type, extension in _SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(content)) as archive:
                if "word/document.xml" in archive.namelist():
                    return _DOCX
        except zipfile.BadZipFile:
            pass
    raise Unprocessable(
        "Only PDF, PNG, JPEG or DOCX documents are accepted (checked from the content, not the name).",
        code="unsupported_file_type",
    )


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip() or "tai-lieu"
    return "".join(ch for ch in base if ch.isprintable())[:200]


def store(files_dir: Path, *, filename: str, content: bytes, now: datetime) -> StoredFile:
    """Write the bytes to a new file (never overwriting) and describe it."""
    if len(content) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"A document may be at most {MAX_FILE_BYTES // (1024 * 1024)} MB.", code="file_too_large")
    if not content:
        raise Unprocessable("The document is empty.", code="empty_file")
    content_type, extension = sniff(content)
    relative = Path(f"{now:%Y}") / f"{now:%m}" / f"{uuid.uuid4().hex}{extension}"
    target = files_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "xb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return StoredFile(
        filename=_safe_name(filename),
        content_type=content_type,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        storage_path=str(relative),
    )
