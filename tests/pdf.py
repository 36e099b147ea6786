"""Reading the PDFs the forms produce, and keeping them in test-artifacts/forms/ for a person to look at."""

from __future__ import annotations

import io
import shutil
import subprocess
import unicodedata
from pathlib import Path

from pypdf import PdfReader

from services.core.embedded_pg import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts" / "forms"


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page (NFC), from bytes that must be a PDF."""
    assert pdf.startswith(b"%PDF-")
    return [unicodedata.normalize("NFC", page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """Line breaks from the layout become spaces, so a phrase that wraps still matches."""
    return " ".join(text.split())


def pdf_text(pdf: bytes) -> str:
    """All pages as one line of text."""
    return flat(" ".join(pdf_pages(pdf)))


def keep(name: str, pdf: bytes, *, picture: bool = False) -> Path:
    """Write the PDF; with ``picture`` and poppler installed, page 1 as a PNG beside it too."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(pdf)
    if picture and shutil.which("pdftoppm"):
        stem = str(path.with_suffix(""))
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(path), stem], check=True
        )
        assert Path(f"{stem}.png").exists()
    return path
