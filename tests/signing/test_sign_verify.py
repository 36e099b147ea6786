"""PAdES signing and verification with pyHanko (services/core/signing.py), on bytes alone."""

from __future__ import annotations

from io import BytesIO

import pytest
from asn1crypto import x509  # type: ignore[import-untyped]
from cryptography.x509 import load_der_x509_certificate
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from services.core.signing import SignatureRequest, UnsignablePdf, sign_pdf, verify_pdf
from services.core.signing_keys import NAME_MAX, fit_name
from tests.signing.keys import a_pdf, make_ca

REQUEST = SignatureRequest(field="MotCua-7d1c9b3e-0000-4000-8000-000000000001", reason="Kết quả – hồ sơ X")


@pytest.fixture(scope="module")
def ca():  # type: ignore[no-untyped-def]
    return make_ca()


@pytest.fixture(scope="module")
def signed(ca) -> bytes:  # type: ignore[no-untyped-def]
    return sign_pdf(a_pdf(), ca.agency, REQUEST)


def test_a_signed_pdf_validates_with_pyhankos_own_validator_as_pades(ca, signed: bytes) -> None:  # type: ignore[no-untyped-def]
    reader = PdfFileReader(BytesIO(signed))
    (embedded,) = reader.embedded_regular_signatures
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES, not adbe.pkcs7.detached
    context = ValidationContext(trust_roots=[x509.Certificate.load(ca.root_der)], allow_fetching=False)
    status = validate_pdf_signature(embedded, signer_validation_context=context)
    assert status.bottom_line
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.md_algorithm == "sha256"

    result = verify_pdf(signed, (ca.root_der,))
    assert result.ok
    (check,) = result.signatures
    assert "UBND phường Hồng Bàng" in check.signer
    assert check.unchanged
    assert check.modification == "NONE"
    assert check.document_id == "7d1c9b3e-0000-4000-8000-000000000001"
    assert check.signed_at is not None


def test_one_changed_byte_makes_the_signature_invalid(ca, signed: bytes) -> None:  # type: ignore[no-untyped-def]
    reader = PdfFileReader(BytesIO(signed))
    (embedded,) = reader.embedded_regular_signatures
    start, length = embedded.byte_range[0], embedded.byte_range[1]
    for position in (start + length // 3, start + length // 2, len(signed) - 40):  # page content, xref, trailer
        tampered = bytearray(signed)
        tampered[position] ^= 0x01
        result = verify_pdf(bytes(tampered), (ca.root_der,))
        assert not result.ok, position
        assert not result.signatures or not result.signatures[0].intact or not result.signatures[0].unchanged


def test_a_pdf_signed_by_a_key_outside_the_trust_root_is_untrusted(signed: bytes) -> None:
    stranger = make_ca()  # another CA, its certificate's names identical to ours
    result = verify_pdf(signed, (stranger.root_der,))
    assert not result.ok
    (check,) = result.signatures
    assert check.intact
    assert check.valid
    assert not check.trusted


def test_bytes_added_after_the_signature_show_as_a_change(ca, signed: bytes) -> None:  # type: ignore[no-untyped-def]
    result = verify_pdf(signed + b"\n%% added later\n", (ca.root_der,))
    assert not result.ok
    assert not result.signatures[0].unchanged


def test_a_second_signature_keeps_the_first_valid(ca, signed: bytes) -> None:  # type: ignore[no-untyped-def]
    twice = sign_pdf(signed, ca.agency, SignatureRequest(field="MotCua-second", reason="again"))
    result = verify_pdf(twice, (ca.root_der,))
    assert result.ok
    first, second = result.signatures
    assert first.ok
    assert not first.unchanged
    assert first.modification == "FORM_FILLING"
    assert second.ok
    assert second.unchanged


def test_what_is_not_a_pdf_is_unreadable_and_cannot_be_signed(ca) -> None:  # type: ignore[no-untyped-def]
    assert not verify_pdf(b"%PDF-1.7 not really", (ca.root_der,)).readable
    unsigned = verify_pdf(a_pdf(), (ca.root_der,))
    assert unsigned.readable
    assert not unsigned.signatures
    assert not unsigned.ok
    with pytest.raises(UnsignablePdf):
        sign_pdf(b"%PDF-1.7\nnothing else", ca.agency, REQUEST)


def test_an_agency_with_a_long_vietnamese_name_gets_its_certificate() -> None:
    """A name past 64 UTF-8 bytes (the demo province centre's: 67 bytes in 53 letters) is cut at a letter, not
    refused: the centre could not print a receipt before."""
    name = "Trung tâm Phục vụ hành chính công thành phố Hải Phòng"
    assert len(name.encode()) > NAME_MAX
    signer = make_ca(agency_name=name).agency
    subject = load_der_x509_certificate(signer.cert_der).subject
    common = subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert isinstance(common, str)
    assert name.startswith(common)
    assert len(common.encode()) <= NAME_MAX
    assert fit_name("Ủy ban nhân dân phường Hồng Bàng") == "Ủy ban nhân dân phường Hồng Bàng"
