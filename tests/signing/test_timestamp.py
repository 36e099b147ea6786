"""PAdES B-T: with a timestamp server set, the signature carries an RFC 3161 timestamp; the server here is
a real HTTP server in the test process answering with pyHanko's reference implementation of a TSA."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asn1crypto import keys, tsp, x509  # type: ignore[import-untyped]
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper

from services.core.signing import KeyPair, SignatureRequest, TimestampUnavailable, sign_pdf, verify_pdf
from services.core.signing_keys import make_agency_certificate, make_demo_ca
from tests.signing.keys import a_pdf

DER = serialization.Encoding.DER


def _tsa_certificate(ca_key: ec.EllipticCurvePrivateKey, ca: cx509.Certificate) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's reference TSA signs RSA only
    now = datetime.now(UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "TSA thử nghiệm")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    pkcs8 = key.private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(DER), pkcs8


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[str, bytes, KeyPair]]:
    now = datetime.now(UTC)
    ca_key, ca = make_demo_ca(now)
    agency_key, agency = make_agency_certificate(
        ca_key, ca, agency_name="Sở Tư pháp", agency_code="000.00.05.H26", now=now
    )
    tsa_cert, tsa_key = _tsa_certificate(ca_key, ca)
    stamper = DummyTimeStamper(x509.Certificate.load(tsa_cert), keys.PrivateKeyInfo.load(tsa_key))

    class Tsa(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            answer = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tsa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pair = KeyPair(
        key_der=agency_key.private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        cert_der=agency.public_bytes(DER),
        chain_der=(ca.public_bytes(DER),),
    )
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsa", ca.public_bytes(DER), pair
    finally:
        server.shutdown()


def test_a_timestamp_server_makes_the_signature_pades_b_t(world: tuple[str, bytes, KeyPair]) -> None:
    url, root, pair = world
    signed = sign_pdf(a_pdf(), pair, SignatureRequest(field="MotCua-bt", reason="B-T", timestamp_url=url))
    result = verify_pdf(signed, (root,))
    assert result.ok
    (check,) = result.signatures
    assert check.timestamp_at is not None
    assert abs((check.timestamp_at - datetime.now(UTC)).total_seconds()) < 600


def test_a_silent_timestamp_server_signs_nothing(world: tuple[str, bytes, KeyPair]) -> None:
    _, _, pair = world
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(TimestampUnavailable):
        sign_pdf(a_pdf(), pair, SignatureRequest(field="x", reason="y", timestamp_url=f"http://127.0.0.1:{port}/"))
