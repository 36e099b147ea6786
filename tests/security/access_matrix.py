"""The access matrix: every route of the three services, and who may call it.

- ``Public``: no token needed (citizens, health, signed webhooks); listed so that it is a decision.
- ``SignedInCitizen``: a citizen's own route behind their session cookie (no cookie, or a staff token: 401).
- ``Gate``: a staff route not about one dossier: the roles let through (any other role: 403; no token: 401).
  ``service`` is the role of the services' own tokens (the outbox receivers).
- ``OnDossier``: a staff route on one dossier, for every demo role at the receiving desk, at the
  department that resolves, elsewhere, and the administrator, in every state that matters. The answer:
  a role outside ``roles`` gets 403; a caller who may not see the dossier 404; a caller in
  ``allowed[state]`` gets ``ok``; where the state allows nobody (no entry) 409; anyone else 403.

A route of an app without an entry here fails tests/security/test_access_matrix.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.intake.setup import PDF
from tests.security.world import PLACES, ROLES, STATES

Route = tuple[str, str, str]  # service, method, path


@dataclass(frozen=True)
class Public:
    why: str


@dataclass(frozen=True)
class SignedInCitizen:
    """A citizen's own route: only their session cookie opens it (no cookie, or a staff token: 401). Which
    dossiers and documents it shows is the ownership rule (services/dossier/ownership.py), tested with two
    citizens in tests/intake/test_citizen_accounts.py."""

    why: str


@dataclass(frozen=True)
class Gate:
    roles: frozenset[str]
    query: Mapping[str, str] = field(default_factory=dict)
    anonymous: int = 401


@dataclass(frozen=True)
class OnDossier:
    label: str
    roles: frozenset[str]
    ok: int
    allowed: Mapping[str, frozenset[str]]
    json: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None
    states: tuple[str, ...] = STATES
    anonymous: int = 401  # what a call without a token gets


def at(place: str, *roles: str) -> frozenset[str]:
    return frozenset(f"{role}@{place}" for role in roles)


ADMIN = frozenset({"admin"})
EVERY_ROLE = frozenset({*ROLES, "admin"})
ACTING = frozenset({"counter", "specialist", "head", "leader", "admin"})
ADMIN_ONLY = frozenset({"admin"})
# Prometheus' bearer token (MOTCUA_METRICS_TOKEN), not a staff role: every staff token, the administrator's too, 403
METRICS = frozenset({"metrics"})


def seen(state: str) -> frozenset[str]:
    """Who may see the dossier: its desk, the department once it got there, inspectors and the administrator."""
    places = ("desk", "unit") if state in {"processing", "approval", "resolved"} else ("desk",)
    return frozenset(
        {*(f"{role}@{place}" for role in ROLES for place in places), *at_every_place("inspector"), "admin"}
    )


def at_every_place(role: str) -> frozenset[str]:
    return frozenset(f"{role}@{place}" for place in PLACES)


def reads(label: str, roles: frozenset[str], ok: int, **request: Any) -> OnDossier:
    """A read: whoever may see the dossier (state does not matter, so one state is enough)."""
    return OnDossier(label, roles, ok, {"processing": seen("processing")}, states=("processing",), **request)


UPLOAD = [("files", ("scan.pdf", PDF, "application/pdf"))]
DESK_STAFF = at("desk", "counter", "specialist", "head", "leader")
DOSSIER = "/api/v1/dossiers/{code}"

MATRIX: dict[Route, Public | SignedInCitizen | Gate | tuple[OnDossier, ...]] = {
    # --- intake_api -------------------------------------------------------------------------------
    ("intake", "GET", "/healthz"): Public("liveness"),
    ("intake", "GET", "/readyz"): Public("readiness"),
    ("intake", "GET", "/metrics"): Gate(METRICS),
    ("intake", "GET", "/api/v1/procedures"): Public("the catalogue"),
    ("intake", "GET", "/api/v1/procedures/{code}"): Public("the catalogue"),
    ("intake", "GET", "/api/v1/catalogue/facets"): Public("the catalogue's filter choices"),
    ("intake", "GET", "/api/v1/catalogue/agencies"): Public("agency names, codes, desk address and postal hours"),
    ("intake", "POST", "/api/v1/procedures"): Gate(ADMIN_ONLY),
    ("intake", "POST", "/api/v1/procedures/{code}/versions"): Gate(ADMIN_ONLY),
    ("intake", "POST", "/api/v1/dossiers"): Public("online submission"),
    ("intake", "POST", "/api/v1/counter/dossiers"): Gate(frozenset({"counter", "admin"})),
    # 4 tại chỗ: only the delegation role (no demo role of the matrix world holds it, administrators included);
    # the delegated counter officer of the desk is tested in tests/intake/test_on_the_spot.py
    ("intake", "POST", "/api/v1/counter/dossiers/on-the-spot"): Gate(frozenset({"on_the_spot"})),
    ("intake", "POST", DOSSIER + "/accept"): (
        OnDossier(
            "accept", frozenset({"counter", "admin"}), 200, {"submitted": at("desk", "counter") | ADMIN}, json={}
        ),
    ),
    ("intake", "POST", DOSSIER + "/postal-redelivery"): (
        # the access rule lets the desk's counter through at "resolved"; the world's result never went by
        # post, so the service's own check answers 409 no_postal_return (tests/intake/test_postal.py: 200)
        OnDossier(
            "ask the post to deliver again",
            frozenset({"counter", "admin"}),
            409,
            {"resolved": at("desk", "counter") | ADMIN},
            json={},
        ),
    ),
    ("intake", "POST", DOSSIER + "/refuse"): (
        OnDossier(
            "refuse",
            frozenset({"counter", "admin"}),
            200,
            {"submitted": at("desk", "counter") | ADMIN},
            json={"reasons": ["Không thuộc thẩm quyền của phường"]},
        ),
    ),
    ("intake", "POST", DOSSIER + "/supplement-requests"): (
        OnDossier(
            "request a supplement",
            ACTING,
            200,
            {
                "submitted": at("desk", "counter") | ADMIN,
                "received": DESK_STAFF | ADMIN,
                "processing": at("unit", "specialist") | ADMIN,
            },
            json={"items": [{"document": "Tờ khai", "reason": "Thiếu chữ ký người yêu cầu"}]},
        ),
    ),
    ("intake", "POST", DOSSIER + "/supplements"): Public("the citizen answers a supplement request, with the secret"),
    ("intake", "POST", DOSSIER + "/documents"): (
        # the staff's uploads; a citizen adds documents with the secret (tests/intake): no token, no secret = 422
        OnDossier(
            "attach input documents",
            ACTING,
            201,
            {
                "submitted": at("desk", "counter") | ADMIN,
                "received": DESK_STAFF | ADMIN,
                "processing": at("unit", "specialist") | at("desk", "counter") | ADMIN,
                "approval": at("unit", "head") | at("desk", "counter") | ADMIN,
            },
            data={"data": '{"kind": "input"}'},
            files=UPLOAD,
            anonymous=422,
        ),
        OnDossier(
            "attach the result",
            ACTING,
            201,
            {
                "received": DESK_STAFF | ADMIN,
                "approval": at("unit", "head") | ADMIN,
                "resolved": at("desk", "counter") | ADMIN,
            },
            data={"data": '{"kind": "result"}'},
            files=UPLOAD,
            anonymous=422,
        ),
    ),
    ("intake", "GET", DOSSIER + "/documents/{document_id}"): (reads("download a document", EVERY_ROLE, 200),),
    ("intake", "POST", DOSSIER + "/withdraw"): Public("the applicant withdraws, with the secret"),
    ("intake", "POST", DOSSIER + "/feedback"): Public("the applicant rates the service, with the secret"),
    ("intake", "POST", DOSSIER + "/result"): Public("the applicant downloads an electronic result, with the secret"),
    ("intake", "GET", "/api/v1/desk/dossiers"): Gate(frozenset({"counter", "admin"})),
    ("intake", "GET", "/api/v1/desk/dossiers/{code}"): (reads("the desk view", EVERY_ROLE, 200),),
    ("intake", "POST", "/api/v1/track"): Public("tracking by phone: state and due time only"),
    ("intake", "GET", "/api/v1/citizen/sign-in"): Public("starts the sign-in at the identity provider"),
    ("intake", "GET", "/api/v1/citizen/callback"): Public("the provider's answer, checked against the browser's flow"),
    ("intake", "POST", "/api/v1/citizen/sign-out"): SignedInCitizen("ends every session of the account"),
    ("intake", "GET", "/api/v1/citizen/me"): SignedInCitizen("who is signed in, for the submission form"),
    ("intake", "GET", "/api/v1/citizen/dossiers"): SignedInCitizen("Hồ sơ của tôi"),
    ("intake", "GET", "/api/v1/citizen/dossiers/{code}"): SignedInCitizen("one of the citizen's dossiers"),
    ("intake", "POST", "/api/v1/citizen/dossiers/{code}/result"): SignedInCitizen(
        "the electronic result of one of the citizen's dossiers"
    ),
    ("intake", "GET", "/api/v1/citizen/documents"): SignedInCitizen("the citizen's stored documents"),
    ("intake", "POST", "/api/v1/citizen/submissions"): SignedInCitizen("filing with the session's identity"),
    ("intake", "GET", "/api/v1/track/{code}"): Public("tracking with the secret"),
    ("intake", "POST", "/api/v1/signatures/verify"): Public("anyone checks a signed PDF they hold (rate-limited)"),
    ("intake", "GET", "/api/v1/signatures/{document_id}"): Public(
        "a signed document's register line by its random id: dossier code, agency, time; no personal data"
    ),
    ("intake", "POST", DOSSIER + "/forms/receipt.pdf"): (
        # 422: past the access rule, the slip's secret is checked (a wrong one here)
        reads("print the receipt", ACTING, 422, json={"secret": "AAAA-BBBB"}),
    ),
    ("intake", "GET", DOSSIER + "/forms/supplement.pdf"): (reads("print form 02", EVERY_ROLE, 409),),
    ("intake", "GET", DOSSIER + "/forms/refusal.pdf"): (reads("print form 03", EVERY_ROLE, 409),),
    # 422: past the role gate, the period (to before from) is refused; the book is for heads and leaders
    ("intake", "GET", "/api/v1/record-book.pdf"): Gate(
        frozenset({"head", "leader", "admin"}), {"from": "2026-01-02", "to": "2026-01-01"}
    ),
    ("intake", "POST", "/api/v1/complaints"): Public("complaints and suggestions"),
    ("intake", "GET", "/api/v1/complaints/{code}"): Public("a published answer"),
    ("intake", "GET", "/api/v1/complaints"): Gate(frozenset({"counter", "head", "leader", "admin"})),
    ("intake", "POST", "/api/v1/complaints/{code}/answer"): Gate(frozenset({"counter", "head", "leader", "admin"})),
    ("intake", "POST", "/api/v1/complaints/{code}/refuse"): Gate(frozenset({"counter", "head", "leader", "admin"})),
    ("intake", "POST", DOSSIER + "/payments"): (
        OnDossier(
            "request a payment",
            frozenset({"counter", "specialist", "head", "admin"}),
            201,
            {
                "received": at("desk", "counter", "specialist", "head") | ADMIN,
                "processing": at("unit", "specialist") | ADMIN,
            },
            json={"amount_vnd": 50_000, "description": "Lệ phí thẩm định"},
        ),
    ),
    ("intake", "POST", DOSSIER + "/payments/lookup"): Public("the applicant's payments, with the secret"),
    ("intake", "POST", "/api/v1/demo/payment-provider/{reference}"): Public("the demo payment page (demo mode)"),
    ("intake", "POST", "/api/v1/webhooks/postal"): Public("signed by the postal operator"),
    ("intake", "POST", "/api/v1/webhooks/payment"): Public("signed by the payment provider"),
    ("intake", "POST", "/internal/v1/events"): Gate(frozenset({"service"})),
    ("intake", "POST", "/internal/v1/events/batch"): Gate(frozenset({"service"})),
    # --- workflow_api -----------------------------------------------------------------------------
    ("workflow", "GET", "/healthz"): Public("liveness"),
    ("workflow", "GET", "/readyz"): Public("readiness"),
    ("workflow", "GET", "/metrics"): Gate(METRICS),
    ("workflow", "POST", "/api/v1/auth/token"): Public("sign-in"),
    ("workflow", "GET", "/api/v1/auth/me"): Gate(EVERY_ROLE),
    ("workflow", "POST", "/api/v1/auth/logout"): Gate(EVERY_ROLE),
    ("workflow", "GET", "/api/v1/calendar/due"): Public("the due-date calculator"),
    ("workflow", "GET", "/api/v1/calendar/days"): Public("the year's holidays"),
    ("workflow", "GET", "/api/v1/calendar/overrides"): Gate(EVERY_ROLE),
    ("workflow", "GET", "/api/v1/calendar/weekly"): Gate(EVERY_ROLE),
    ("workflow", "POST", "/api/v1/calendar/overrides"): Gate(ADMIN_ONLY),
    ("workflow", "POST", "/api/v1/calendar/overrides/{override_id}/revoke"): Gate(ADMIN_ONLY),
    ("workflow", "PUT", "/api/v1/calendar/weekly"): Gate(ADMIN_ONLY),
    ("workflow", "GET", "/api/v1/agency-levels"): Gate(EVERY_ROLE),
    ("workflow", "GET", "/api/v1/agencies"): Gate(EVERY_ROLE),
    ("workflow", "POST", "/api/v1/agencies"): Gate(ADMIN_ONLY),
    ("workflow", "PATCH", "/api/v1/agencies/{code}"): Gate(ADMIN_ONLY),
    ("workflow", "GET", "/api/v1/roles"): Gate(EVERY_ROLE),
    ("workflow", "GET", "/api/v1/staff"): Gate(ADMIN_ONLY),
    ("workflow", "POST", "/api/v1/staff"): Gate(ADMIN_ONLY),
    ("workflow", "PATCH", "/api/v1/staff/{username}"): Gate(ADMIN_ONLY),
    ("workflow", "POST", "/api/v1/staff/{username}/password"): Gate(ADMIN_ONLY),
    ("workflow", "GET", DOSSIER): (reads("the staff view", EVERY_ROLE, 200),),
    ("workflow", "POST", DOSSIER + "/transitions"): (
        OnDossier(
            "forward",
            EVERY_ROLE,
            200,
            # not at "approval": the next step is the desk's "return", where a processing dossier would be
            # stranded, so the engine offers resolve there and forward to nobody (409)
            {"processing": at("unit", "specialist") | ADMIN},
            json={"action": "forward"},
        ),
        OnDossier(
            "request a payment",
            EVERY_ROLE,
            200,
            {"processing": at("unit", "specialist") | ADMIN},
            json={"action": "request_payment", "amount_vnd": 50_000, "description": "Lệ phí thẩm định"},
        ),
        OnDossier(
            "return the result",
            EVERY_ROLE,
            200,
            {"resolved": at("desk", "counter") | ADMIN},
            json={"action": "return_result"},
        ),
        OnDossier(
            "withdraw",
            EVERY_ROLE,
            200,
            {
                "received": at("desk", "counter") | ADMIN,
                "processing": at("desk", "counter") | at("unit", "specialist") | ADMIN,
                "approval": at("desk", "counter") | at("unit", "head") | ADMIN,
            },
            json={"action": "withdraw", "comment": "Công dân xin rút hồ sơ"},
        ),
    ),
    ("workflow", "GET", DOSSIER + "/timeline"): (reads("the process control sheet", EVERY_ROLE, 200),),
    ("workflow", "GET", DOSSIER + "/forms/control-sheet.pdf"): (reads("print form 06", EVERY_ROLE, 200),),
    ("workflow", "GET", DOSSIER + "/forms/apology.pdf"): (reads("print form 04", EVERY_ROLE, 409),),
    ("workflow", "GET", DOSSIER + "/forms/stop.pdf"): (reads("print form 05", EVERY_ROLE, 409),),
    ("workflow", "GET", "/api/v1/stats"): Gate(frozenset({"admin", "leader", "head", "inspector"})),
    ("workflow", "GET", "/api/v1/stats/overdue"): Gate(frozenset({"admin", "leader", "head", "inspector"})),
    ("workflow", "GET", "/api/v1/stats/export.xlsx"): Gate(frozenset({"admin", "leader", "head", "inspector"})),
    ("workflow", "GET", "/api/v1/stats/export.csv"): Gate(frozenset({"admin", "leader", "head", "inspector"})),
    ("workflow", "GET", "/api/v1/tasks"): Gate(ACTING),
    ("workflow", "GET", "/api/v1/templates"): Gate(EVERY_ROLE),
    ("workflow", "GET", "/api/v1/templates/{template_id}"): Gate(EVERY_ROLE),
    ("workflow", "POST", "/api/v1/templates"): Gate(ADMIN_ONLY),
    ("workflow", "GET", "/api/v1/outbox"): Gate(ADMIN_ONLY),
    ("workflow", "POST", "/api/v1/outbox/{event_id}/requeue"): Gate(ADMIN_ONLY),
    ("workflow", "POST", "/internal/v1/events"): Gate(frozenset({"service"})),
    ("workflow", "POST", "/internal/v1/events/batch"): Gate(frozenset({"service"})),
    # --- notify_api -------------------------------------------------------------------------------
    ("notify", "GET", "/healthz"): Public("liveness"),
    ("notify", "GET", "/readyz"): Public("readiness"),
    ("notify", "GET", "/metrics"): Gate(METRICS),
    ("notify", "GET", "/api/v1/notifications"): Gate(EVERY_ROLE),
    ("notify", "GET", "/api/v1/notifications/inbox"): Gate(EVERY_ROLE),
    ("notify", "POST", "/api/v1/notifications/{notification_id}/read"): Gate(EVERY_ROLE),
    ("notify", "POST", "/api/v1/notifications/{notification_id}/resend"): Gate(frozenset({"admin", "counter"})),
    ("notify", "GET", "/api/v1/notification-templates"): Gate(EVERY_ROLE),
    ("notify", "POST", "/api/v1/notification-templates"): Gate(ADMIN_ONLY),
    ("notify", "POST", "/api/v1/notification-templates/preview"): Gate(ADMIN_ONLY),
    ("notify", "POST", "/api/v1/webhooks/sms"): Public("signed by the SMS gateway"),
    ("notify", "GET", "/api/v1/webhook-subscriptions"): Gate(ADMIN_ONLY),
    ("notify", "POST", "/api/v1/webhook-subscriptions"): Gate(ADMIN_ONLY),
    ("notify", "GET", "/api/v1/webhook-subscriptions/{subscription_id}/deliveries"): Gate(ADMIN_ONLY),
    ("notify", "POST", "/api/v1/webhook-deliveries/{delivery_id}/replay"): Gate(ADMIN_ONLY),
    ("notify", "GET", "/api/v1/portal-sync"): Gate(ADMIN_ONLY),
    ("notify", "POST", "/api/v1/portal-sync/{sync_id}/replay"): Gate(ADMIN_ONLY),
    ("notify", "POST", "/internal/v1/events"): Gate(frozenset({"service"})),
    ("notify", "POST", "/internal/v1/events/batch"): Gate(frozenset({"service"})),
}


def expected(case: OnDossier, actor: str, state: str) -> int:
    """The answer the matrix promises ``actor`` for ``case`` on the dossier in ``state``."""
    role = actor.split("@")[0]
    if role not in case.roles:
        return 403
    if actor not in seen(state):
        return 404
    allowed = case.allowed.get(state, frozenset())
    if actor in allowed:
        return case.ok
    return 409 if not allowed else 403
