"""Citizen accounts against the local OpenID Connect provider running as a real server in the test process:
the sign-in (state, nonce, PKCE, the ID token's signature, issuer, audience and lifetime), "Hồ sơ của tôi"
and its ownership rule with a second citizen, the identity taken from the session, and reusing documents
with and without consent (audit lines)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake_api.main import create_app as create_intake
from services.core.citizen_session import FLOW_COOKIE, SESSION_COOKIE
from services.core.config import Settings
from services.dev.oidc_provider import LocalProvider
from services.models import AuditLog, CitizenAccount, Document, Dossier
from tests.apps import new_client
from tests.factories import create_dossier
from tests.intake.setup import PDF, Desk
from tests.oidc import AN, BINH, CLIENT_ID, CLIENT_SECRET, consent_at_provider, oidc_settings, running_provider

CALLBACK = "http://test/api/v1/citizen/callback"
HOME = "/ho-so-cua-toi"


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalProvider]:
    with running_provider(CALLBACK) as running:
        yield running


@pytest.fixture(autouse=True)
def behaving(provider: LocalProvider) -> Iterator[None]:
    provider.tamper = None
    yield
    provider.tamper = None


@pytest.fixture(scope="module")
async def accounts_app(settings: Settings, provider: LocalProvider) -> AsyncIterator[FastAPI]:
    app = create_intake(settings.with_changes(citizen_oidc=oidc_settings(provider, CALLBACK)))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def browser(accounts_app: FastAPI, share) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """A new browser (its own cookie jar and address) for each call: ``async with browser() as client``."""
    return lambda: new_client(share(accounts_app))  # type: ignore[return-value]


async def start(client: httpx.AsyncClient) -> str:
    started = await client.get("/api/v1/citizen/sign-in")
    assert started.status_code == 302, started.text
    assert FLOW_COOKIE in client.cookies
    return started.headers["location"]


async def sign_in(client: httpx.AsyncClient, citizen: str = AN) -> httpx.Response:
    back = await consent_at_provider(await start(client), citizen)
    parts = urlsplit(back)
    return await client.get(f"{parts.path}?{parts.query}")


def refused_with(answer: httpx.Response) -> str | None:
    assert answer.status_code == 302
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    return dict(parse_qsl(urlsplit(answer.headers["location"]).query)).get("loi")


async def account_of(session: AsyncSession, id_number: str) -> CitizenAccount:
    account = await session.scalar(select(CitizenAccount).where(CitizenAccount.id_number == id_number))
    assert account is not None
    return account


async def test_signing_in_at_the_provider_opens_a_session_with_the_identity_it_vouched_for(
    browser, provider: LocalProvider, session: AsyncSession
) -> None:
    async with browser() as client:
        authorize = dict(parse_qsl(urlsplit(await start(client)).query))
        assert authorize["code_challenge_method"] == "S256"
        assert len(authorize["code_challenge"]) == 43  # base64url of a SHA-256
        assert len(authorize["state"]) >= 32
        assert len(authorize["nonce"]) >= 32
        assert authorize["client_id"] == CLIENT_ID
        assert authorize["redirect_uri"] == CALLBACK

        back = await client.get("/api/v1/citizen/sign-in")  # a second, fresh attempt replaces the first
        answer = await consent_at_provider(back.headers["location"], AN)
        parts = urlsplit(answer)
        done = await client.get(f"{parts.path}?{parts.query}")
        assert done.status_code == 302
        assert done.headers["location"] == HOME
        cookie = done.headers["set-cookie"].lower()
        assert f"{SESSION_COOKIE}=" in cookie
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert provider.exchanged[-1] == "ok"  # the provider checked our PKCE verifier against the challenge

        me = (await client.get("/api/v1/citizen/me")).json()
    assert me["full_name"] == "Nguyễn Văn An"
    assert me["id_number"] == AN
    assert me["phone"] == "0912345678"
    assert me["birthdate"] == "1990-04-12"
    assert me["address"].startswith("12 Điện Biên Phủ")

    account = await account_of(session, AN)
    lines = (await session.scalars(select(AuditLog).where(AuditLog.username == f"citizen:{account.id}"))).all()
    assert [line.action for line in lines] == ["citizen_login"]
    assert AN not in str(lines[0].detail)
    assert "Nguyễn" not in str(lines[0].detail)


async def test_the_code_is_useless_without_the_verifier(browser, provider: LocalProvider) -> None:
    async with browser() as client:
        back = await consent_at_provider(await start(client), AN)
    code = dict(parse_qsl(urlsplit(back).query))["code"]
    async with httpx.AsyncClient() as http:
        stolen = await http.post(
            f"{provider.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": "x" * 50,
            },
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
    assert stolen.status_code == 400
    assert provider.exchanged[-1] == "pkce_failed"


async def test_a_state_that_is_not_this_browsers_is_refused_before_the_code_is_exchanged(
    browser, provider: LocalProvider
) -> None:
    async with browser() as victim, browser() as attacker:
        # the attacker's own code and state, pushed into the victim's browser (login CSRF)
        planted = urlsplit(await consent_at_provider(await start(attacker), BINH))
        await start(victim)
        exchanged = len(provider.exchanged)
        answer = await victim.get(f"{planted.path}?{planted.query}")
        assert refused_with(answer) == "oidc_state_mismatch"
        assert len(provider.exchanged) == exchanged
        assert (await victim.get("/api/v1/citizen/me")).status_code == 401


async def test_a_callback_without_a_sign_in_in_progress_is_refused(browser) -> None:
    async with browser() as client:
        answer = await client.get("/api/v1/citizen/callback", params={"code": "abc", "state": "def"})
    assert refused_with(answer) == "oidc_flow_missing"


async def test_a_declined_consent_opens_no_session(browser) -> None:
    async with browser() as client:
        back = urlsplit(await consent_at_provider(await start(client), AN, decision="deny"))
        answer = await client.get(f"{back.path}?{back.query}")
        assert refused_with(answer) == "oidc_denied"


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("forged", "oidc_id_token_invalid"),
        ("expired", "oidc_id_token_invalid"),
        ("issuer", "oidc_id_token_invalid"),
        ("audience", "oidc_id_token_invalid"),
        ("nonce", "oidc_id_token_invalid"),
        ("no_cccd", "oidc_identity_missing"),
    ],
)
async def test_an_id_token_that_does_not_hold_is_refused_and_audited(
    browser, provider: LocalProvider, session: AsyncSession, tamper: str, code: str
) -> None:
    provider.tamper = tamper
    async with browser() as client:
        answer = await sign_in(client)
        assert refused_with(answer) == code
        assert (await client.get("/api/v1/citizen/me")).status_code == 401
    failed = (
        await session.scalars(select(AuditLog).where(AuditLog.action == "citizen_login_failed").order_by(AuditLog.at))
    ).all()
    assert failed
    assert failed[-1].detail == {"code": code}
    assert await session.scalar(select(CitizenAccount).where(CitizenAccount.id_number == AN)) is None


async def test_keys_are_kept_and_a_rotated_key_is_fetched_at_once(
    settings: Settings, provider: LocalProvider, share
) -> None:
    cached = settings.with_changes(citizen_oidc={**oidc_settings(provider, CALLBACK), "metadata_seconds": 3600})
    app = create_intake(cached)
    async with app.router.lifespan_context(app):
        async with new_client(share(app)) as first:
            assert (await sign_in(first)).headers["location"] == HOME
        served = provider.keys_served
        async with new_client(share(app)) as second:
            assert (await sign_in(second)).headers["location"] == HOME
        assert provider.keys_served == served  # the keys came from the process's cache
        provider.rotate()
        async with new_client(share(app)) as third:
            assert (await sign_in(third)).headers["location"] == HOME  # an unknown key id: fetched again
        assert provider.keys_served == served + 1


async def test_a_discovery_document_for_another_issuer_is_not_followed(browser, provider: LocalProvider) -> None:
    provider.tamper = "discovery"
    async with browser() as client:
        answer = await client.get("/api/v1/citizen/sign-in")
        assert refused_with(answer) == "oidc_unavailable"
        assert FLOW_COOKIE not in client.cookies


async def test_accounts_are_off_without_their_settings(intake: httpx.AsyncClient) -> None:
    answer = await intake.get("/api/v1/citizen/sign-in")
    assert answer.status_code == 404
    assert answer.json()["code"] == "citizen_accounts_off"


# --- "Hồ sơ của tôi" and the ownership rule ------------------------------------------------------------


async def _document(session: AsyncSession, dossier: Dossier, name: str) -> Document:
    document = Document(
        dossier_id=dossier.id, kind="input", required_code="D01", filename=name, content_type="application/pdf",
        size_bytes=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(), storage_path=f"2026/12/{uuid.uuid4()}.pdf",
    )  # fmt: skip
    session.add(document)
    await session.flush()
    return document


async def test_a_citizen_sees_their_own_dossiers_and_nobody_elses(browser, session: AsyncSession, desk: Desk) -> None:
    mine = await create_dossier(session, agency=desk.agency, version=desk.version, applicant_id_number=AN)
    theirs = await create_dossier(session, agency=desk.agency, version=desk.version, applicant_id_number=BINH)
    my_file = await _document(session, mine, "to-khai-an.pdf")
    their_file = await _document(session, theirs, "to-khai-binh.pdf")
    await session.commit()
    async with browser() as an, browser() as binh:
        await sign_in(an, AN)
        await sign_in(binh, BINH)
        listed = (await an.get("/api/v1/citizen/dossiers")).json()
        assert [item["code"] for item in listed["items"]] == [mine.code]
        assert listed["total"] == 1
        assert listed["items"][0]["status"] == "received"

        view = await an.get(f"/api/v1/citizen/dossiers/{mine.code}")
        assert view.status_code == 200
        assert [document["id"] for document in view.json()["documents"]] == [str(my_file.id)]
        other = await an.get(f"/api/v1/citizen/dossiers/{theirs.code}")
        assert other.status_code == 404
        assert other.json()["code"] == "dossier_not_found"
        assert (await an.get("/api/v1/citizen/dossiers/NO-SUCH-CODE")).json()["code"] == "dossier_not_found"

        assert [d["id"] for d in (await an.get("/api/v1/citizen/documents")).json()] == [str(my_file.id)]
        assert [d["id"] for d in (await binh.get("/api/v1/citizen/documents")).json()] == [str(their_file.id)]
        assert [i["code"] for i in (await binh.get("/api/v1/citizen/dossiers")).json()["items"]] == [theirs.code]


async def test_signing_out_ends_every_session_of_the_account(browser) -> None:
    async with browser() as phone, browser() as laptop:
        await sign_in(phone)
        await sign_in(laptop)
        assert (await laptop.get("/api/v1/citizen/me")).status_code == 200
        assert (await phone.post("/api/v1/citizen/sign-out")).status_code == 204
        for client in (phone, laptop):
            gone = await client.get("/api/v1/citizen/dossiers")
            assert gone.status_code == 401
            assert gone.json()["code"] == "citizen_session_required"


async def test_a_staff_token_or_a_forged_cookie_is_no_citizen_session(browser, bearer) -> None:
    async with browser() as client:
        assert (await client.get("/api/v1/citizen/me", headers=bearer())).status_code == 401
        client.cookies.set(SESSION_COOKIE, "eyJhbGciOiJIUzI1NiJ9.e30.forged")
        assert (await client.get("/api/v1/citizen/me")).status_code == 401


# --- filing with the session's identity, and reusing documents -----------------------------------------


def _filing(desk: Desk, **more: object) -> dict[str, object]:
    return {"procedure_code": desk.procedure_code, "contact": {"phone": "0912345678"}, **more}


async def test_the_identity_of_a_filing_is_the_sessions_not_the_forms(
    browser, session: AsyncSession, desk: Desk
) -> None:
    await session.commit()
    async with browser() as client:
        await sign_in(client)
        typed = _filing(desk, contact={"phone": "0912345678", "full_name": "Someone Else", "id_number": BINH})
        refused = await client.post("/api/v1/citizen/submissions", json=typed)
        assert refused.status_code == 422
        filed = await client.post("/api/v1/citizen/submissions", json=_filing(desk))
        assert filed.status_code == 201, filed.text
        code = filed.json()["code"]
        assert [item["code"] for item in (await client.get("/api/v1/citizen/dossiers")).json()["items"]] == [code]
    dossier = await session.scalar(select(Dossier).where(Dossier.code == code))
    assert dossier is not None
    assert (dossier.applicant_name, dossier.applicant_id_number, dossier.channel) == ("Nguyễn Văn An", AN, 2)


async def test_reusing_an_earlier_document_needs_consent_and_is_audited(
    browser, session: AsyncSession, desk: Desk
) -> None:
    earlier = await create_dossier(session, agency=desk.agency, version=desk.version, applicant_id_number=AN)
    kept = await _document(session, earlier, "giay-chung-sinh.pdf")
    someone_elses = await create_dossier(session, agency=desk.agency, version=desk.version, applicant_id_number=BINH)
    not_mine = await _document(session, someone_elses, "cua-nguoi-khac.pdf")
    await session.commit()
    async with browser() as client:
        await sign_in(client)
        account = await account_of(session, AN)
        reuse = [{"document_id": str(kept.id), "code": "D02"}]

        without = await client.post("/api/v1/citizen/submissions", json=_filing(desk, reuse=reuse))
        assert without.status_code == 422
        assert without.json()["code"] == "reuse_consent_required"
        lines = select(AuditLog.action).where(AuditLog.username == f"citizen:{account.id}")
        assert "citizen_consent" not in (await session.scalars(lines)).all()

        stranger = [{"document_id": str(not_mine.id)}]
        foreign = await client.post(
            "/api/v1/citizen/submissions", json=_filing(desk, reuse=stranger, reuse_consent=True)
        )
        assert foreign.status_code == 404
        assert foreign.json()["code"] == "document_not_found"

        filed = await client.post("/api/v1/citizen/submissions", json=_filing(desk, reuse=reuse, reuse_consent=True))
        assert filed.status_code == 201, filed.text
    documents = filed.json()["documents"]
    assert [(d["required_code"], d["filename"], d["sha256"]) for d in documents] == [
        ("D02", "giay-chung-sinh.pdf", kept.sha256)
    ]
    dossier = await session.scalar(select(Dossier).where(Dossier.code == filed.json()["code"]))
    assert dossier is not None
    assert dossier.digitised
    audited = (
        await session.scalars(select(AuditLog).where(AuditLog.dossier_id == dossier.id).order_by(AuditLog.at))
    ).all()
    by_action = {line.action: line for line in audited}
    assert by_action["citizen_consent"].detail == {"purpose": "reuse_documents", "documents": [str(kept.id)]}
    reused = by_action["document_reused"]
    assert reused.username == f"citizen:{account.id}"
    assert reused.detail["document_id"] == str(kept.id)
    assert reused.detail["from_dossier"] == earlier.code
    assert reused.detail["new_document_id"] == documents[0]["id"]


async def test_a_filing_without_a_way_to_reach_the_citizen_names_the_field(browser, desk: Desk, session) -> None:
    await session.commit()
    async with browser() as client:
        await sign_in(client)
        answer = await client.post("/api/v1/citizen/submissions", json=_filing(desk, contact={"phone": "12"}))
        assert answer.status_code == 422
        assert [error["loc"] for error in answer.json()["errors"]] == [["body", "contact", "phone"]]


# --- the electronic result from "Hồ sơ của tôi" ---------------------------------------------------------


async def test_a_citizen_downloads_their_electronic_result_without_the_secret_and_nobody_elses(
    browser, session: AsyncSession, settings: Settings, desk: Desk
) -> None:
    mine = await create_dossier(
        session, agency=desk.agency, version=desk.version, applicant_id_number=AN, status="resolved",
        return_method="online",
    )  # fmt: skip
    result = Document(
        dossier_id=mine.id, kind="result", filename="quyet-dinh-nguyen-van-an.pdf", content_type="application/pdf",
        size_bytes=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(), storage_path=f"2026/12/{uuid.uuid4()}.pdf",
    )  # fmt: skip
    session.add(result)
    stored = settings.files_dir / result.storage_path
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(PDF)
    await session.commit()
    async with browser() as an, browser() as binh:
        await sign_in(an, AN)
        await sign_in(binh, BINH)
        view = (await an.get(f"/api/v1/citizen/dossiers/{mine.code}")).json()
        assert [item["id"] for item in view["results"]] == [str(result.id)]

        # another citizen cannot take it, nor learn that the code exists
        stranger = await binh.post(f"/api/v1/citizen/dossiers/{mine.code}/result", json={})
        assert (stranger.status_code, stranger.json()["code"]) == (404, "dossier_not_found")
        assert (await an.post(f"/api/v1/citizen/dossiers/{mine.code}/result", json={"secret": "x"})).status_code == 422

        taken = await an.post(f"/api/v1/citizen/dossiers/{mine.code}/result", json={})
        assert taken.status_code == 200, taken.text
        assert taken.content == PDF
        assert "nguyen-van-an" not in taken.headers["content-disposition"]
        assert (await an.get(f"/api/v1/citizen/dossiers/{mine.code}")).json()["status"] == "returned"
        again = await an.post(f"/api/v1/citizen/dossiers/{mine.code}/result", json={"document_id": str(result.id)})
        assert again.content == PDF

    account = await account_of(session, AN)
    lines = (
        await session.scalars(
            select(AuditLog)
            .where(AuditLog.dossier_id == mine.id, AuditLog.action == "download_result")
            .order_by(AuditLog.at)
        )
    ).all()
    assert [(line.username, line.detail["first"]) for line in lines] == [
        (f"citizen:{account.id}", True),
        (f"citizen:{account.id}", False),
    ]
