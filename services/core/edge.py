"""Security headers at the edge: what the gateway (services/dev/gateway.py), nginx (deploy/nginx/motcua.conf)
and the three services send.

The SPA's build has no inline script or style (Vite emits ``<script type="module" src>`` and a
stylesheet link; React sets styles through the CSSOM, which CSP does not restrict), so its policy
allows scripts, styles, images, fonts and API calls from its own origin only, and no framing.
API answers get ``default-src 'none'``: they are data, never a page to render. HSTS is sent outside
demo mode only (a demo runs on http://127.0.0.1, where a pinned https would lock the browser out).
Keep ``deploy/nginx/motcua.conf`` in step with these values (tests/security/test_edge.py checks it).
"""

from __future__ import annotations

SPA_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc (served only when the docs are public) run inline scripts from a CDN
DOCS_CSP = "frame-ancestors 'none'"
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
HSTS = "max-age=31536000; includeSubDomains"
REFERRER_POLICY = "same-origin"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), browsing-topics=()"


def edge_headers(*, demo: bool) -> dict[str, str]:
    """The headers every answer of the gateway (and nginx) carries, whatever its content."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": REFERRER_POLICY,
        "Permissions-Policy": PERMISSIONS_POLICY,
    }
    if not demo:
        headers["Strict-Transport-Security"] = HSTS
    return headers


_API_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", API_CSP.encode()),
)
_DOCS_HEADERS = (_API_HEADERS[0], _API_HEADERS[1], (b"content-security-policy", DOCS_CSP.encode()))


def service_headers(path: str) -> tuple[tuple[bytes, bytes], ...]:
    """Each service's own answers: ``nosniff``, no framing, and a CSP for data (or for the docs pages). Added
    by services.core.app's request middleware to every answer that does not set them itself."""
    return _DOCS_HEADERS if path in DOCS_PATHS else _API_HEADERS
