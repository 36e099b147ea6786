"""Production keys from files (MOTCUA_SIGNING_*): a PEM key with its certificate chain, or a PKCS#12 file,
both behind a password; the roots from MOTCUA_SIGNING_TRUST_ROOTS_FILE. (PKCS#11 tokens are configuration
only: no token here.)"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.config import Settings
from services.core.signing import SignatureRequest, sign_pdf, verify_pdf
from services.core.signing_keys import key_for, make_agency_certificate, make_demo_ca, trust_roots
from services.models import Agency
from tests.signing.keys import a_pdf

PASSWORD = "mật-khẩu-khóa-ký"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    now = datetime.now(UTC)
    ca_key, ca = make_demo_ca(now)
    key, cert = make_agency_certificate(
        ca_key, ca, agency_name="Trung tâm Phục vụ hành chính công", agency_code="000.00.99.H26", now=now,
        organization="Văn phòng UBND thành phố",
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    paths = {name: folder / name for name in ("key.pem", "chain.pem", "roots.pem", "seal.p12")}
    paths["key.pem"].write_bytes(
        key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(PASSWORD.encode())
        )
    )
    paths["chain.pem"].write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
    paths["roots.pem"].write_bytes(ca.public_bytes(pem))
    paths["seal.p12"].write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", key, cert, [ca], serialization.BestAvailableEncryption(PASSWORD.encode())
        )
    )
    return paths


async def _signed_and_checked(session: AsyncSession, settings: Settings) -> None:
    settings.refuse_unsafe_start()
    agency = Agency(code="000.00.31.H26", name="Ủy ban nhân dân phường Hồng Bàng")
    key = await key_for(session, settings, agency)
    assert key is not None
    assert key.demo is False
    assert "Trung tâm Phục vụ hành chính công" in key.subject
    signed = await asyncio.to_thread(sign_pdf, a_pdf(), key.credential, SignatureRequest(field="MotCua-p", reason="x"))
    result = await asyncio.to_thread(verify_pdf, signed, await trust_roots(session, settings))
    assert result.ok
    assert result.signatures[0].signer_organization == "Văn phòng UBND thành phố"
    assert "CN=Một Cửa CA thử nghiệm" in result.signatures[0].issuer  # the test root, trusted from the file


async def test_a_pem_key_and_chain_sign_and_the_roots_file_trusts_them(
    session: AsyncSession, settings: Settings, files: dict[str, Path]
) -> None:
    production = settings.with_changes(
        demo=False,
        clock_file=None,
        auth={"jwt_secret": "x" * 40}, webhooks={"allow_loopback": False},
        signing={"key_file": files["key.pem"], "cert_file": files["chain.pem"], "password": PASSWORD,
                 "trust_roots_file": files["roots.pem"]},
    )  # fmt: skip
    await _signed_and_checked(session, production)


async def test_a_pkcs12_file_signs(session: AsyncSession, settings: Settings, files: dict[str, Path]) -> None:
    production = settings.with_changes(
        demo=False,
        clock_file=None,
        auth={"jwt_secret": "x" * 40},
        webhooks={"allow_loopback": False},
        signing={"pkcs12_file": files["seal.p12"], "password": PASSWORD, "trust_roots_file": files["roots.pem"]},
    )
    await _signed_and_checked(session, production)


async def test_without_a_key_outside_demo_mode_nothing_is_signed_and_half_a_setting_refuses_to_start(
    session: AsyncSession, settings: Settings, files: dict[str, Path]
) -> None:
    plain = settings.with_changes(
        demo=False, clock_file=None, auth={"jwt_secret": "x" * 40}, webhooks={"allow_loopback": False}
    )
    assert await key_for(session, plain, Agency(code="X", name="X")) is None
    assert await trust_roots(session, plain) == ()
    half = plain.with_changes(signing={"key_file": files["key.pem"]})
    with pytest.raises(RuntimeError, match="go together"):
        half.refuse_unsafe_start()
    token = plain.with_changes(signing={"pkcs11_module": "/usr/lib/softhsm/libsofthsm2.so"})
    with pytest.raises(RuntimeError, match="PKCS11"):
        token.refuse_unsafe_start()
