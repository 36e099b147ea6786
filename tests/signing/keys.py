"""Test keys: a CA and an agency certificate made like the demo ones, and a PDF to sign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from weasyprint import HTML  # type: ignore[import-untyped]

from services.core.signing import KeyPair
from services.core.signing_keys import make_agency_certificate, make_demo_ca


@dataclass(frozen=True)
class TestCa:
    root_der: bytes
    agency: KeyPair


def make_ca(agency_name: str = "UBND phường Hồng Bàng", organization: str | None = None) -> TestCa:
    now = datetime.now(UTC)
    ca_key, ca = make_demo_ca(now)
    key, cert = make_agency_certificate(
        ca_key, ca, agency_name=agency_name, agency_code="000.17.22.H56", now=now, organization=organization
    )
    der = serialization.Encoding.DER
    pkcs8 = key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return TestCa(
        root_der=ca.public_bytes(der),
        agency=KeyPair(key_der=pkcs8, cert_der=cert.public_bytes(der), chain_der=(ca.public_bytes(der),)),
    )


def a_pdf(text: str = "Quyết định cấp giấy phép") -> bytes:
    pdf: bytes = HTML(string=f"<h1>{text}</h1><p>Kết quả giải quyết hồ sơ.</p>").write_pdf()
    return pdf
