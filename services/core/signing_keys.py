"""Which key signs an agency's documents, and which roots the verification trusts.

Production (``MOTCUA_SIGNING_*``): one credential for the deployment — a PEM key and certificate chain, a
PKCS#12 file (both with ``MOTCUA_SIGNING_PASSWORD``), or a key on a PKCS#11 token — read once per process.
A province whose agencies each hold their own certificate runs one deployment per seal or, later, one
setting per agency; the register (``signed_document``) already records which agency signed. The roots a
signature must chain to are ``MOTCUA_SIGNING_TRUST_ROOTS_FILE`` (e.g. the root of the government CA, Ban
Cơ yếu Chính phủ, or of a licensed public CA); without it nothing is "trusted".

Demo mode with no credential set: a demo CA and one certificate per agency (ECDSA P-256, 10 and 5 years),
made with ``cryptography`` on first use and kept in ``signing_key`` so that every replica and every
restart signs with the same keys and the verification page keeps trusting yesterday's receipts. Their
names say "chữ ký thử nghiệm" (demo signature) in the subject, so every PDF reader's signature panel shows
it too. Outside demo mode with nothing set, documents are issued unsigned (``credential_for`` is None).
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.auth import purpose_key
from services.core.config import Settings, SigningSettings
from services.core.sealing import seal, unseal
from services.core.signing import Credential, KeyPair, Pkcs11Token
from services.models import Agency, SigningKey

DEMO_MARK = "chữ ký thử nghiệm"
DEMO_CA = "demo-ca"
DEMO_CA_NAME = "Một Cửa CA thử nghiệm (demo)"
DEMO_ORGANIZATION = f"Một Cửa – {DEMO_MARK} (demo)"
NAME_MAX = 64  # X.520 upper bound of a common or organisation name, which cryptography counts in UTF-8 bytes
CA_YEARS = 10
AGENCY_YEARS = 5


@dataclass(frozen=True, slots=True)
class AgencyKey:
    """The credential that signs for an agency, with its certificate's subject and whether it is a demo key."""

    credential: Credential
    subject: str
    demo: bool


# --- production: files or a token -----------------------------------------------------------------------------------


def configured(signing: SigningSettings) -> bool:
    return bool(signing.key_file or signing.pkcs12_file or signing.pkcs11_module)


def _password(signing: SigningSettings) -> bytes | None:
    return signing.password.get_secret_value().encode() if signing.password else None


def _pkcs8(key: PrivateKeyTypes) -> bytes:
    """The key as unencrypted PKCS#8 DER: it only ever travels in memory, to the signing process."""
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


@functools.cache
def _from_files(
    key_file: Path | None, cert_file: Path | None, pkcs12_file: Path | None, password: bytes | None
) -> AgencyKey:
    """Read once per process (the files do not change under a running process; a new key is a restart)."""
    if pkcs12_file is not None:
        key, cert, chain = pkcs12.load_key_and_certificates(pkcs12_file.read_bytes(), password)
        if key is None or cert is None:
            raise RuntimeError("MOTCUA_SIGNING_PKCS12_FILE holds no key and certificate")
        chain_der = tuple(c.public_bytes(serialization.Encoding.DER) for c in chain)
    else:
        if key_file is None or cert_file is None:
            raise RuntimeError("MOTCUA_SIGNING_KEY_FILE needs MOTCUA_SIGNING_CERT_FILE")
        key = serialization.load_pem_private_key(key_file.read_bytes(), password)
        certs = x509.load_pem_x509_certificates(cert_file.read_bytes())
        cert, chain_der = certs[0], tuple(c.public_bytes(serialization.Encoding.DER) for c in certs[1:])
    pair = KeyPair(key_der=_pkcs8(key), cert_der=cert.public_bytes(serialization.Encoding.DER), chain_der=chain_der)
    return AgencyKey(credential=pair, subject=_subject(cert), demo=False)


def _configured_key(signing: SigningSettings) -> AgencyKey:
    if signing.pkcs11_module:
        if not (signing.pkcs11_token_label and signing.pkcs11_key_label and signing.pkcs11_pin):
            raise RuntimeError("a PKCS#11 module needs MOTCUA_SIGNING_PKCS11_TOKEN_LABEL, _KEY_LABEL and _PIN")
        token = Pkcs11Token(
            module=signing.pkcs11_module, token_label=signing.pkcs11_token_label,
            key_label=signing.pkcs11_key_label, pin=signing.pkcs11_pin.get_secret_value(),
            cert_label=signing.pkcs11_cert_label,
        )  # fmt: skip
        return AgencyKey(
            credential=token, subject=f"PKCS#11 {signing.pkcs11_token_label}/{signing.pkcs11_key_label}", demo=False
        )
    return _from_files(signing.key_file, signing.cert_file, signing.pkcs12_file, _password(signing))


@functools.cache
def _roots_from(path: Path) -> tuple[bytes, ...]:
    return tuple(c.public_bytes(serialization.Encoding.DER) for c in x509.load_pem_x509_certificates(path.read_bytes()))


# --- demo: a CA and agency certificates, made once, shared through the database --------------------------------------


def fit_name(text: str) -> str:
    """``text`` cut to ``NAME_MAX`` UTF-8 bytes, never inside a character: a Vietnamese agency's name takes two
    or three bytes a letter ("Trung tâm Phục vụ hành chính công thành phố Hải Phòng": 53 letters, 67 bytes), and
    a cut by letters made cryptography refuse the certificate, so the agency could not print its receipt."""
    return text.encode()[:NAME_MAX].decode(errors="ignore").rstrip()


def _name(common: str, organization: str, unit: str | None = None) -> x509.Name:
    parts = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, fit_name(organization)),
    ]
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, fit_name(unit)))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, fit_name(common)))
    return x509.Name(parts)


def _key_usage(**allowed: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
             "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")  # fmt: skip
    return x509.KeyUsage(**{name: allowed.get(name, False) for name in names})


def make_demo_ca(now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed demo root (P-256, ``CA_YEARS`` years)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(DEMO_CA_NAME, DEMO_ORGANIZATION)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_agency_certificate(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, *, agency_name: str, agency_code: str, now: datetime,
    organization: str | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:  # fmt: skip
    """A signing certificate for an agency under ``ca`` (P-256, ``AGENCY_YEARS`` years, non-repudiation)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(agency_name, organization or DEMO_ORGANIZATION, agency_code))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * AGENCY_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _seal_key(settings: Settings, name: str, key: ec.EllipticCurvePrivateKey) -> str:
    der = _pkcs8(key)
    return seal(purpose_key(settings, "signing-demo-key"), base64.b64encode(der).decode(), context=name)


def _unseal_key(settings: Settings, row: SigningKey) -> bytes:
    return base64.b64decode(unseal(purpose_key(settings, "signing-demo-key"), row.sealed_key, context=row.name))


async def _stored(session: AsyncSession, settings: Settings, name: str, make: object) -> SigningKey:
    """The row ``name``, made by ``make()`` when missing; a concurrent maker's row wins (ON CONFLICT)."""
    row = await session.scalar(select(SigningKey).where(SigningKey.name == name))
    if row is not None:
        return row
    assert callable(make)
    key, cert = make()
    await session.execute(
        insert(SigningKey)
        .values(name=name, certificate_der=cert.public_bytes(serialization.Encoding.DER),
                sealed_key=_seal_key(settings, name, key))
        .on_conflict_do_nothing(index_elements=["name"])
    )  # fmt: skip
    row = await session.scalar(
        select(SigningKey).where(SigningKey.name == name).execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def _demo_ca(session: AsyncSession, settings: Settings) -> SigningKey:
    return await _stored(session, settings, DEMO_CA, lambda: make_demo_ca(datetime.now(UTC)))


async def _demo_agency_key(session: AsyncSession, settings: Settings, agency: Agency) -> AgencyKey:
    ca_row = await _demo_ca(session, settings)

    def make() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        ca_key = serialization.load_der_private_key(_unseal_key(settings, ca_row), None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        ca = x509.load_der_x509_certificate(ca_row.certificate_der)
        return make_agency_certificate(
            ca_key, ca, agency_name=agency.name, agency_code=agency.code, now=datetime.now(UTC)
        )

    row = await _stored(session, settings, f"demo-agency:{agency.code}", make)
    cert = x509.load_der_x509_certificate(row.certificate_der)
    pair = KeyPair(
        key_der=_unseal_key(settings, row), cert_der=row.certificate_der, chain_der=(ca_row.certificate_der,)
    )
    return AgencyKey(credential=pair, subject=_subject(cert), demo=True)


# --- what the callers use -------------------------------------------------------------------------------------------


async def key_for(session: AsyncSession, settings: Settings, agency: Agency) -> AgencyKey | None:
    """The key that signs ``agency``'s documents; None outside demo mode when no key is configured."""
    if configured(settings.signing):
        return _configured_key(settings.signing)
    if settings.demo:
        return await _demo_agency_key(session, settings, agency)
    return None


async def trust_roots(session: AsyncSession, settings: Settings) -> tuple[bytes, ...]:
    """The roots a signature must chain to (DER): the configured file, and the demo CA in demo mode."""
    roots: tuple[bytes, ...] = ()
    if settings.signing.trust_roots_file is not None:
        roots += _roots_from(settings.signing.trust_roots_file)
    if settings.demo:
        roots += ((await _demo_ca(session, settings)).certificate_der,)
    return roots
