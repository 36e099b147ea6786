"""PAdES signatures on our PDFs and their verification, with pyHanko: pure functions of bytes.

``sign_pdf`` adds one signature to a PDF as an incremental update (an earlier signature in the file stays
valid: a result the resolving agency already signed in its own system keeps that signature) with the
``ETSI.CAdES.detached`` sub-filter, SHA-256, and the signing certificate in the signed attributes: PAdES
baseline B-B; with a timestamp server (RFC 3161, ``MOTCUA_SIGNING_TIMESTAMP_URL``) the signature also
carries a signature timestamp, B-T. ``verify_pdf`` runs pyHanko's own validator on every signature of a
PDF against the trust roots it is given (no fetching of anything from the network: an uploaded PDF must
not make the server open URLs of its choosing) and reports what a citizen or an officer asks: is it
intact, valid, trusted, who signed, when, and whether the file was changed after the signature.

Both are CPU work (hashing, public-key operations, parsing a PDF an outsider uploaded): the callers run
them in the process pool of ``services/core/offload.py``, never on the event loop. So the inputs and
outputs are plain picklable values — DER bytes, strings, frozen dataclasses — and no pyHanko object
crosses a process boundary. Measured on the 2-core dev machine under a load average of 12 (the CI loop
running), medians of 10: a one-page receipt renders in 518 ms, its ECDSA P-256 signature adds 119 ms
(31.8 → 41.4 KB: the signature's reserved space), verifying it takes 41 ms.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from asn1crypto import keys, x509  # type: ignore[import-untyped]
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

# pyHanko logs every path it cannot validate as a warning with a traceback; an untrusted upload is an answer
# here ("trusted": false), not an incident, and the worker processes would print it raw to stderr
logging.getLogger("pyhanko.sign.validation").setLevel(logging.ERROR)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)

FIELD_PREFIX = "MotCua-"  # our signature fields are named MotCua-<signed document id>
TIMESTAMP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A private key (PKCS#8 DER, never written anywhere by us) with its certificate and chain (DER)."""

    key_der: bytes
    cert_der: bytes
    chain_der: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class Pkcs11Token:
    """A key on a PKCS#11 token (an HSM, a USB token): opened by the signing process for each signature."""

    module: str
    token_label: str
    key_label: str
    pin: str
    cert_label: str | None = None


Credential = KeyPair | Pkcs11Token


@dataclass(frozen=True, slots=True)
class SignatureRequest:
    """What the signature says besides the key: ``field`` its field name, ``reason`` and ``location`` the
    PDF's /Reason and /Location (shown by every PDF reader's signature panel), ``timestamp_url`` a TSA."""

    field: str
    reason: str
    location: str | None = None
    timestamp_url: str | None = None


class UnsignablePdf(ValueError):
    """The bytes are not a PDF pyHanko can add a signature to (malformed, encrypted)."""


class TimestampUnavailable(RuntimeError):
    """The timestamp server did not answer with a timestamp (B-T asked): nothing was signed."""


def _signer(credential: Credential) -> signers.Signer:
    if isinstance(credential, Pkcs11Token):
        return _pkcs11_signer(credential)
    cert = x509.Certificate.load(credential.cert_der)
    chain = [x509.Certificate.load(der) for der in credential.chain_der]
    return signers.SimpleSigner(
        signing_cert=cert,
        signing_key=keys.PrivateKeyInfo.load(credential.key_der),
        cert_registry=SimpleCertificateStore.from_certs([cert, *chain]),  # type: ignore[no-untyped-call]
    )


def _pkcs11_signer(token: Pkcs11Token) -> signers.Signer:  # pragma: no cover - needs a token and the extra
    """A signer on a PKCS#11 session (``pip install motcua[pkcs11]``: python-pkcs11). The session stays open
    for the life of the signing process: opening it costs a login on the token."""
    # only with the pkcs11 extra installed
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11

    session = pkcs11.open_pkcs11_session(
        token.module, token_criteria=TokenCriteria(label=token.token_label), user_pin=token.pin
    )
    return pkcs11.PKCS11Signer(session, key_label=token.key_label, cert_label=token.cert_label or token.key_label)


def sign_pdf(pdf: bytes, credential: Credential, request: SignatureRequest) -> bytes:
    """``pdf`` with one more PAdES signature (B-B, B-T with a timestamp server); the new file's bytes."""
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    except (PdfError, ValueError, KeyError, IndexError) as exc:
        raise UnsignablePdf(f"not a readable PDF: {type(exc).__name__}") from exc
    if writer.prev.encrypted:
        raise UnsignablePdf("an encrypted PDF")
    metadata = signers.PdfSignatureMetadata(
        field_name=request.field,
        reason=request.reason,
        location=request.location,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    timestamper = (
        HTTPTimeStamper(request.timestamp_url, timeout=TIMESTAMP_TIMEOUT_SECONDS) if request.timestamp_url else None
    )
    try:
        out: BytesIO = signers.sign_pdf(writer, metadata, signer=_signer(credential), timestamper=timestamper)
    except (PdfError, KeyError, IndexError) as exc:
        raise UnsignablePdf(f"cannot sign this PDF: {type(exc).__name__}") from exc
    except (TimestampRequestError, OSError) as exc:
        raise TimestampUnavailable(f"timestamp server: {type(exc).__name__}") from exc
    return out.getvalue()


# --- verification -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """One signature of a PDF as pyHanko's validator judged it.

    ``intact``: the signed bytes hash to what was signed; ``valid``: the signature over that hash verifies with
    the certificate's key; ``trusted``: the certificate chains to one of the trust roots; ``unchanged``: nothing
    was added to the file after this signature (coverage of the entire file); ``modification``: pyHanko's
    judgement of what was added after it (NONE, LTA_UPDATES, FORM_FILLING, ANNOTATIONS, OTHER) — a later
    signature is FORM_FILLING, anything else OTHER.
    """

    field: str
    signer: str  # the certificate's subject, as people read it
    signer_organization: str | None
    issuer: str
    serial: str
    signed_at: datetime | None  # the signer's claim (/M or the signing-time attribute)
    timestamp_at: datetime | None  # a timestamp authority's, when the signature carries one (B-T)
    intact: bool
    valid: bool
    trusted: bool
    unchanged: bool
    modification: str | None
    coverage: str
    ok: bool  # pyHanko's bottom line: intact, valid, trusted, its timestamp good, no illegal change after it

    @property
    def document_id(self) -> str | None:
        """The signed document's id when the field is one of ours (``MotCua-<id>``)."""
        return self.field[len(FIELD_PREFIX) :] if self.field.startswith(FIELD_PREFIX) else None


@dataclass(frozen=True, slots=True)
class Verification:
    """A PDF's signatures (``readable`` False: not a PDF pyHanko can read) and its SHA-256."""

    sha256: str
    readable: bool
    signatures: tuple[SignatureCheck, ...]

    @property
    def ok(self) -> bool:
        """Signed, every signature good, and the last one covers the whole file (nothing added since)."""
        return bool(self.signatures) and all(s.ok for s in self.signatures) and self.signatures[-1].unchanged


_SHORT = {"common_name": "CN", "organizational_unit_name": "OU", "organization_name": "O", "country_name": "C",
          "locality_name": "L", "state_or_province_name": "ST", "serial_number": "SERIALNUMBER"}  # fmt: skip


def _name(name: x509.Name) -> str:
    """``CN=…, OU=…, O=…, C=VN``: the usual notation, the same in every language of the page."""
    parts = []
    for key, value in reversed(list(name.native.items())):
        for one in value if isinstance(value, list) else [value]:
            parts.append(f"{_SHORT.get(key, key)}={one}")
    return ", ".join(parts)


def _organization(cert: x509.Certificate) -> str | None:
    value = cert.subject.native.get("organization_name")
    if isinstance(value, list):
        value = ", ".join(value)
    return str(value) if value else None


def verify_pdf(pdf: bytes, trust_roots_der: tuple[bytes, ...]) -> Verification:
    """Every signature of ``pdf`` checked against ``trust_roots_der`` only (no system roots, no fetching)."""
    digest = hashlib.sha256(pdf).hexdigest()
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_regular_signatures)
    except (PdfError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return Verification(sha256=digest, readable=False, signatures=())
    roots = [x509.Certificate.load(der) for der in trust_roots_der]
    checks: list[SignatureCheck] = []
    for signature in embedded:
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        try:
            status = validate_pdf_signature(signature, signer_validation_context=context)
        except Exception:  # a hostile PDF may break the validator in any way: the signature is then invalid
            checks.append(_broken(signature.field_name))
            continue
        cert = status.signing_cert
        timestamp = status.timestamp_validity
        checks.append(
            SignatureCheck(
                field=signature.field_name,
                signer=_name(cert.subject),
                signer_organization=_organization(cert),
                issuer=_name(cert.issuer),
                serial=format(cert.serial_number, "x"),
                signed_at=status.signer_reported_dt,
                timestamp_at=timestamp.timestamp if timestamp is not None else None,
                intact=status.intact,
                valid=status.valid,
                trusted=status.trusted,
                unchanged=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
                modification=status.modification_level.name if status.modification_level is not None else None,
                coverage=status.coverage.name if status.coverage is not None else "UNCLEAR",
                ok=status.bottom_line,
            )
        )
    return Verification(sha256=digest, readable=True, signatures=tuple(checks))


def _broken(field: str) -> SignatureCheck:
    return SignatureCheck(
        field=field, signer="", signer_organization=None, issuer="", serial="", signed_at=None, timestamp_at=None,
        intact=False, valid=False, trusted=False, unchanged=False, modification=None, coverage="UNCLEAR", ok=False,
    )  # fmt: skip
