"""Signed receipts and results through intake_api, and the public verification endpoints (issue 16 §2)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from io import BytesIO

import httpx
import pytest
from asn1crypto import x509  # type: ignore[import-untyped]
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from services.core.config import Settings
from services.core.errors import PayloadTooLarge
from services.core.offload import ProcessOffload
from services.core.signing import SignatureRequest, sign_pdf
from services.core.signing_keys import trust_roots
from services.dossier import signatures
from services.models import SignedDocument
from tests.intake.setup import Desk, submission
from tests.pdf import pdf_text
from tests.signing.keys import a_pdf, make_ca

PROBLEM = "application/problem+json"


async def _receipt(intake: httpx.AsyncClient, desk: Desk, bearer, travel) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    travel(datetime(2026, 11, 23, 9, 0, tzinfo=VN_TZ))
    officer = bearer(desk.officer)
    created = (await intake.post("/api/v1/counter/dossiers", json=submission(desk), headers=officer)).json()
    receipt = await intake.post(
        f"/api/v1/dossiers/{created['code']}/forms/receipt.pdf", json={"secret": created["secret"]}, headers=officer
    )
    assert receipt.status_code == 200, receipt.text
    return created["code"], receipt.content


async def _verify(intake: httpx.AsyncClient, content: bytes, name: str = "phieu.pdf") -> httpx.Response:
    return await intake.post("/api/v1/signatures/verify", files={"file": (name, content, "application/pdf")})


async def test_the_receipt_is_signed_by_the_receiving_agency_and_checks_as_valid(
    intake: httpx.AsyncClient, desk: Desk, bearer, travel, session: AsyncSession, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    code, pdf = await _receipt(intake, desk, bearer, travel)

    # pyHanko's own validator, against the demo CA the first signature made and stored
    roots = [x509.Certificate.load(der) for der in await trust_roots(session, settings)]
    (embedded,) = PdfFileReader(BytesIO(pdf)).embedded_regular_signatures
    context = ValidationContext(trust_roots=roots)
    # pyHanko's synchronous API runs its own event loop: off this test's loop
    status = await asyncio.to_thread(validate_pdf_signature, embedded, signer_validation_context=context)
    assert status.bottom_line
    assert status.trusted
    assert desk.agency.name[:64] in status.signing_cert.subject.human_friendly

    text = pdf_text(pdf)
    assert "Văn bản đã được ký số bởi" in text
    assert desk.agency.name in text
    assert "CHỮ KÝ THỬ NGHIỆM" in text.upper()  # a demo key says so on the paper
    assert "/kiem-tra-chu-ky/" in text

    checked = await _verify(intake, pdf)
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert body["valid"]
    assert body["signed"]
    assert body["matches_issued"]
    (signature,) = body["signatures"]
    assert signature["intact"]
    assert signature["valid"]
    assert signature["trusted"]
    assert signature["unchanged"]
    assert signature["demo"]
    issued = signature["issued"]
    assert (issued["dossier_code"], issued["agency_name"], issued["kind"]) == (code, desk.agency.name, "receipt")

    # the QR code's link: the register line by id, no personal data in it
    line = await intake.get(f"/api/v1/signatures/{issued['id']}")
    assert line.status_code == 200
    assert line.json()["dossier_code"] == code
    assert line.json()["demo"] is True
    assert "Nguyễn" not in line.text
    assert "0912" not in line.text
    assert f"/kiem-tra-chu-ky/{issued['id']}" in text


async def test_a_changed_byte_in_the_receipt_is_reported_invalid(
    intake: httpx.AsyncClient, desk: Desk, bearer, travel
) -> None:  # type: ignore[no-untyped-def]
    code, pdf = await _receipt(intake, desk, bearer, travel)
    (embedded,) = PdfFileReader(BytesIO(pdf)).embedded_regular_signatures
    position = embedded.byte_range[1] // 2
    tampered = bytearray(pdf)
    tampered[position] ^= 0x01
    body = (await _verify(intake, bytes(tampered))).json()
    assert body["valid"] is False
    assert body["matches_issued"] is False
    (signature,) = body["signatures"]
    assert not signature["intact"] or not signature["unchanged"]
    assert signature["issued"]["dossier_code"] == code  # the field still names what it claims to be


async def test_a_pdf_signed_by_a_key_we_do_not_trust_is_untrusted(intake: httpx.AsyncClient) -> None:
    stranger = make_ca("UBND phường Hồng Bàng")
    forged = await asyncio.to_thread(
        sign_pdf, a_pdf(), stranger.agency, SignatureRequest(field="Signature1", reason="giả mạo")
    )
    body = (await _verify(intake, forged)).json()
    assert body["valid"] is False
    assert body["signed"]
    (signature,) = body["signatures"]
    assert signature["intact"]
    assert signature["valid"]
    assert not signature["trusted"]
    assert signature["issued"] is None


async def test_what_cannot_be_checked_is_a_problem(intake: httpx.AsyncClient, settings: Settings) -> None:
    png = await _verify(intake, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "anh.png")
    assert (png.status_code, png.headers["content-type"], png.json()["code"]) == (422, PROBLEM, "not_a_pdf")
    missing = await intake.post("/api/v1/signatures/verify", files={"other": ("a.pdf", a_pdf(), "application/pdf")})
    assert (missing.status_code, missing.json()["code"]) == (422, "file_missing")
    as_json = await intake.post("/api/v1/signatures/verify", json={"file": "x"})
    assert (as_json.status_code, as_json.json()["code"]) == (422, "file_missing")
    # over the edge's multipart limit (2 MiB in the tests' settings; 25 MiB by default): refused before parsing
    huge = await _verify(intake, b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024))
    assert (huge.status_code, huge.headers["content-type"]) == (413, PROBLEM)
    # and our own limit, 10 MiB, under the default edge limit
    offload = ProcessOffload(workers=1, queue=0)
    with pytest.raises(PayloadTooLarge):
        await signatures.verify(None, settings, offload, b"%PDF-" + b"0" * signatures.MAX_VERIFY_BYTES)  # type: ignore[arg-type]
    unknown = await intake.get("/api/v1/signatures/5b0f3c1e-8d2a-4c47-9a8e-3f0d2b1c4a5e")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "signed_document_not_found")
    garbage = await intake.get("/api/v1/signatures/not-an-id")
    assert garbage.status_code == 404


async def test_a_pdf_result_is_stored_signed_and_its_unsigned_original_is_kept_apart(
    intake: httpx.AsyncClient, desk: Desk, bearer, session: AsyncSession, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    created = (
        await intake.post("/api/v1/counter/dossiers", json=submission(desk), headers=bearer(desk.officer))
    ).json()
    original = a_pdf("Giấy chứng nhận")
    attached = await intake.post(
        f"/api/v1/dossiers/{created['code']}/documents",
        data={"data": json.dumps({"kind": "result"})},
        files=[("files", ("giay-chung-nhan.pdf", original, "application/pdf"))],
        headers=bearer(desk.specialist),
    )
    assert attached.status_code == 201, attached.text
    (document,) = attached.json()["documents"]
    download = await intake.get(
        f"/api/v1/dossiers/{created['code']}/documents/{document['id']}", headers=bearer(desk.officer)
    )
    served = download.content
    assert served != original
    assert served.startswith(original)
    body = (await _verify(intake, served)).json()
    assert body["valid"]
    assert body["matches_issued"]
    assert body["signatures"][0]["issued"]["kind"] == "result"

    row = await session.scalar(select(SignedDocument).where(SignedDocument.document_id == document["id"]))
    assert row is not None
    assert row.original_path is not None
    assert (settings.files_dir / row.original_path).read_bytes() == original
