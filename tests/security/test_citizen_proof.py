"""Issue 11.2 and 11.3: the citizen's proof of ownership (tracking, supplements, withdrawal, feedback,
payment lookup) behind a proxy, under a flood of guesses, and what the phone number alone shows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.core.config import Settings
from services.core.net import parse_networks, resolve_client
from services.intake.citizen import limits
from tests.intake.setup import Desk, submission
from tests.security.conftest import client_at

PROXY = "127.0.0.1"  # a trusted proxy by default (MOTCUA_TRUSTED_PROXIES)


async def _submit(intake_app: FastAPI, desk: Desk) -> dict[str, Any]:
    async with client_at(intake_app) as citizen:
        created = await citizen.post("/api/v1/dossiers", json=submission(desk))
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_the_forwarded_address_is_believed_only_from_a_trusted_proxy() -> None:
    trusted = parse_networks("127.0.0.1, 10.0.0.0/8")
    assert resolve_client("203.0.113.5", "198.51.100.7", trusted) == "203.0.113.5"  # a client cannot choose
    assert resolve_client("127.0.0.1", "198.51.100.7", trusted) == "198.51.100.7"
    # a proxy chain: the first address from the right that is not a trusted proxy
    assert resolve_client("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3", trusted) == "198.51.100.7"
    assert resolve_client("127.0.0.1", "not-an-address", trusted) == "127.0.0.1"
    assert resolve_client("127.0.0.1", "198.51.100.7", parse_networks("")) == "127.0.0.1"


async def test_ten_bad_guesses_through_the_proxy_do_not_lock_out_every_citizen(intake_app: FastAPI, desk: Desk) -> None:
    mine, theirs = await _submit(intake_app, desk), await _submit(intake_app, desk)
    async with client_at(intake_app, PROXY) as proxy:
        for n in range(12):
            await proxy.get(
                f"/api/v1/track/{theirs['code']}", params={"secret": f"BAD{n:05d}"},
                headers={"x-forwarded-for": "198.51.100.66"},
            )  # fmt: skip
        locked = await proxy.get(
            f"/api/v1/track/{theirs['code']}",
            params={"secret": "BAD99999"},
            headers={"x-forwarded-for": "198.51.100.66"},
        )
        honest = await proxy.get(
            f"/api/v1/track/{mine['code']}",
            params={"secret": mine["secret"]},
            headers={"x-forwarded-for": "198.51.100.7"},
        )
    assert locked.status_code == 429  # the guesser is limited, by their own address
    assert honest.status_code == 200  # everyone else behind the same proxy is not


async def test_a_rotating_forwarded_for_from_an_untrusted_peer_does_not_escape_the_limit(
    intake_app: FastAPI, desk: Desk, settings: Settings, travel: Any
) -> None:
    created = await _submit(intake_app, desk)
    travel(datetime(2026, 12, 9, 10, 0, 1, tzinfo=UTC))  # one window for every guess (it is fixed, 900 s)
    async with client_at(intake_app, "203.0.113.200") as attacker:
        answers = [
            (
                await attacker.get(
                    f"/api/v1/track/{created['code']}", params={"secret": f"BAD{n:05d}"},
                    headers={"x-forwarded-for": f"198.51.100.{n + 1}"},
                )
            ).status_code
            for n in range(settings.citizen_proof.address_failures + 3)
        ]  # fmt: skip
    assert answers[: settings.citizen_proof.address_failures] == [404] * settings.citizen_proof.address_failures
    assert set(answers[settings.citizen_proof.address_failures :]) == {429}


async def test_nobody_can_lock_the_owner_out_of_their_dossier(
    intake_app: FastAPI, desk: Desk, settings: Settings, travel: Any
) -> None:
    """Guesses from many addresses slow the code down; the owner gets in after at most the spacing."""
    created = await _submit(intake_app, desk)
    start = datetime(2026, 12, 8, 9, 0, 1, tzinfo=UTC)
    travel(start)
    answers = []
    for n in range(settings.citizen_proof.code_free_failures + 5):
        async with client_at(intake_app) as stranger:
            guess = await stranger.get(f"/api/v1/track/{created['code']}", params={"secret": f"BAD{n:05d}"})
            answers.append(guess.status_code)
    free = settings.citizen_proof.code_free_failures
    assert answers[: free + 1] == [404] * (free + 1)
    assert set(answers[settings.citizen_proof.code_free_failures + 1 :]) == {429}  # one attempt per spacing now
    async with client_at(intake_app) as owner:
        waiting = await owner.get(f"/api/v1/track/{created['code']}", params={"secret": created["secret"]})
        assert waiting.status_code == 429
        assert int(waiting.headers["retry-after"]) <= settings.citizen_proof.code_spacing_seconds
        travel(start + timedelta(seconds=settings.citizen_proof.code_spacing_seconds))
        let_in = await owner.get(f"/api/v1/track/{created['code']}", params={"secret": created["secret"]})
    assert let_in.status_code == 200
    # the bound the README gives: guesses per code per day, over all addresses
    assert limits(settings).per_subject_per_day() == 17_290


@pytest.mark.committed  # forty guesses at once, each on a connection of its own
async def test_concurrent_guesses_cannot_race_past_the_limit(
    intake_app: FastAPI, desk: Desk, settings: Settings, travel: Any
) -> None:
    created = await _submit(intake_app, desk)
    travel(datetime(2026, 12, 9, 11, 0, 1, tzinfo=UTC))  # one window for every guess (it is fixed, 900 s)
    async with client_at(intake_app) as attacker:
        answers = await asyncio.gather(
            *(
                attacker.post(
                    f"/api/v1/dossiers/{created['code']}/withdraw", json={"secret": f"BAD{n:05d}", "reason": "thử"}
                )
                for n in range(40)
            )
        )
    statuses = [answer.status_code for answer in answers]
    # the per-code spacing may refuse some before the address limit does; never more than the limit get checked
    assert statuses.count(404) <= settings.citizen_proof.address_failures
    assert set(statuses) <= {404, 429}
    assert statuses.count(429) >= 40 - settings.citizen_proof.address_failures


async def test_every_proof_of_ownership_is_limited_the_same_way(intake_app: FastAPI, desk: Desk) -> None:
    created = await _submit(intake_app, desk)
    code = created["code"]
    async with client_at(intake_app) as attacker:
        attempts: list[httpx.Response] = []
        for n in range(4):
            attempts.append(await attacker.get(f"/api/v1/track/{code}", params={"secret": f"BAD{n:05d}"}))
            attempts.append(
                await attacker.post(f"/api/v1/dossiers/{code}/payments/lookup", json={"secret": f"BADX{n:04d}"})
            )
            attempts.append(
                await attacker.post(
                    f"/api/v1/dossiers/{code}/feedback", json={"secret": f"BADY{n:04d}", "rating": "satisfied"}
                )
            )
        statuses = [answer.status_code for answer in attempts]
    assert statuses[:10] == [404] * 10  # ten failures from one address, whichever door they knock on
    assert set(statuses[10:]) == {429}


async def test_the_phone_alone_shows_only_the_state_and_the_due_time(intake_app: FastAPI, desk: Desk) -> None:
    created = await _submit(intake_app, desk)
    async with client_at(intake_app) as neighbour:
        brief = await neighbour.post("/api/v1/track", json={"code": created["code"], "phone": "0912345678"})
        in_url = await neighbour.get(f"/api/v1/track/{created['code']}", params={"phone": "0912345678"})
        wrong = await neighbour.post("/api/v1/track", json={"code": created["code"], "phone": "0999999999"})
    assert brief.status_code == 200
    assert set(brief.json()) == {"code", "status", "status_code", "status_label", "due_at", "overdue", "paused"}
    assert in_url.status_code == 422  # no phone number in a URL (logs, proxies, browser history)
    assert in_url.json()["code"] == "phone_in_url"
    assert wrong.status_code == 404


async def test_dossier_codes_do_not_reveal_a_secret(intake_app: FastAPI, desk: Desk) -> None:
    """Sequential codes are public by design (printed, spoken at the counter); the secret is what protects."""
    first, second = await _submit(intake_app, desk), await _submit(intake_app, desk)
    assert first["secret"] != second["secret"]
    assert len(first["secret"].replace("-", "")) >= 8
