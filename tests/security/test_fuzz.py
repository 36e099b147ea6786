"""schemathesis over the three services' OpenAPI documents (issue 11, point 15).

Every operation of intake_api, workflow_api and notify_api is called in-process (schemathesis'
ASGI transport, one lifespan per app) with generated requests — state-changing ones included —
on a throwaway database holding the demo data, online dossiers waiting at their desks, counter
dossiers routed into their workflow (the relay run once) and a complaint, with a
token of the demo administrator holding every staff role; half of the generated path codes and
usernames are real ones, so handlers get past "not found". Phases: the documented examples,
coverage (boundary and negative values), fuzzing and stateful sequences, with valid and invalid
input. Each answer must be no server error, carry a status code the operation documents, match
the documented schema and content type, and refuse the input that breaks the schema. At most
``MAX_EXAMPLES`` examples per operation and phase keep the three runs near a minute on two
cores (``-s`` prints, per operation, how many answers of each status it got).
To explore further: ``MOTCUA_FUZZ_EXAMPLES=100`` (about 2.5 minutes), ``MOTCUA_FUZZ_RANDOM=1``
(new inputs each run instead of the same deterministic ones).
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections import Counter, defaultdict
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from pydantic import SecretStr
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.python import asgi
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from intake_api.main import create_app as create_intake
from notify_api.main import create_app as create_notify
from services.core.config import Settings
from services.demo.seed import load_demo_data
from services.models import Agency, Procedure, ProcedureAgency, ProcedureVersion, Staff, StaffRole
from tests.db import TEST_DATABASE, migrate, recreate_database
from tests.tokens import bearer_for
from tests.workflow_setup import deliver
from workflow_api.main import create_app as create_workflow

FUZZ_DATABASE = f"{TEST_DATABASE}_fuzz"
LOGOUT = "/api/v1/auth/logout"
MAX_EXAMPLES = int(
    os.environ.get("MOTCUA_FUZZ_EXAMPLES", "8")
)  # per operation and phase: the 87 operations stay within a minute or two on 2 cores
CHECKS = (
    "negative_data_rejection",
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


def _secret(raw: bytes) -> str:
    return "whsec_" + base64.b64encode(raw).decode()


@dataclass
class FuzzWorld:
    """What the fuzzer starts from: the demo data, a few live dossiers and a complaint."""

    codes: list[str] = field(default_factory=list)  # dossier, procedure, agency and complaint codes
    usernames: list[str] = field(default_factory=list)


async def _bearer(settings: Settings, username: str, roles: list[str]) -> dict[str, str]:
    """A token of the account as it is now (its token version: an earlier fuzz run may have raised it)."""
    database = create_async_engine(str(settings.db.url))
    try:
        async with AsyncSession(database) as session:
            staff = (await session.scalars(select(Staff).where(Staff.username == username))).one()
    finally:
        await database.dispose()
    return bearer_for(settings, staff, roles, token_version=staff.token_version)


ADMIN_ROLES = ["admin", "counter", "specialist", "head", "leader", "inspector"]


async def _signed_in(settings: Settings, username: str, roles: list[str]) -> dict[str, str]:
    """A fresh token of the account, active again: the fuzzer may have deactivated it, changed its
    password or roles (which end its tokens) through the staff routes it exercises."""
    database = create_async_engine(str(settings.db.url))
    try:
        async with AsyncSession(database) as session:
            await session.execute(update(Staff).where(Staff.username == username).values(active=True))
            await session.commit()
    finally:
        await database.dispose()
    return await _bearer(settings, username, roles)


def _admin_auth(schema: Any, settings: Settings) -> None:
    """Sign in as the administrator, and again whenever an answer is 401 (the token was ended)."""

    class Admin:
        def get(self, case: schemathesis.Case, context: Any) -> str:
            return asyncio.run(_signed_in(settings, "admin", ADMIN_ROLES))["Authorization"]

        def set(self, case: schemathesis.Case, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": data}

    schema.auth(refresh_interval=600, retry_on=[401])(Admin)


async def _seed(settings: Settings) -> FuzzWorld:
    database = create_async_engine(str(settings.db.url))
    try:
        async with AsyncSession(database, expire_on_commit=False) as session:
            await load_demo_data(session)
            await session.commit()
            desks = (
                await session.execute(
                    select(Procedure.code, Agency.code)
                    .join(ProcedureVersion, ProcedureVersion.procedure_id == Procedure.id)
                    .join(ProcedureAgency, ProcedureAgency.version_id == ProcedureVersion.id)
                    .join(Agency, Agency.id == ProcedureAgency.agency_id)
                    .where(ProcedureAgency.role == "receiving", ProcedureVersion.online_mode != "none")
                    .order_by(Procedure.code, Agency.code)
                    .limit(3)
                )
            ).all()
            usernames = list(
                await session.scalars(
                    select(Staff.username).where(Staff.username != "admin").order_by(Staff.username).limit(4)
                )
            )
            officers = dict(
                (
                    await session.execute(
                        select(Agency.code, func.min(Staff.username))
                        .join(Staff, Staff.agency_id == Agency.id)
                        .join(StaffRole, StaffRole.staff_id == Staff.id)
                        .where(StaffRole.role_code == "counter", Agency.code.in_([desk[1] for desk in desks]))
                        .group_by(Agency.code)
                    )
                ).all()
            )
    finally:
        await database.dispose()
    world = FuzzWorld(usernames=usernames)
    apps = {"intake": create_intake(settings), "workflow": create_workflow(settings), "notify": create_notify(settings)}
    async with AsyncExitStack() as stack:
        for running in apps.values():
            await stack.enter_async_context(running.router.lifespan_context(running))
        transport = httpx.ASGITransport(app=apps["intake"], client=("198.51.100.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://fuzz") as client:
            for procedure_code, agency_code in desks:
                applicant = {"full_name": "Nguyễn Thị Thu Hà", "id_number": "031190004567", "phone": "0912345678"}
                body = {"procedure_code": procedure_code, "agency_code": agency_code, "applicant": applicant}
                online = await client.post("/api/v1/dossiers", json=body)
                assert online.status_code == 201, online.text
                world.codes += [online.json()["code"], procedure_code, agency_code]
                if agency_code in officers:  # received at the counter: routed into the workflow below
                    officer = await _bearer(settings, officers[agency_code], ["counter"])
                    counter = await client.post(
                        "/api/v1/counter/dossiers", json={**body, "agency_code": None}, headers=officer
                    )
                    assert counter.status_code == 201, counter.text
                    world.codes.append(counter.json()["code"])
            complaint = await client.post(
                "/api/v1/complaints",
                json={
                    "agency_code": desks[0][1],
                    "subject": "Giờ làm việc",
                    "content": "Đề nghị mở thêm quầy buổi trưa.",
                },
            )
            assert complaint.status_code == 201, complaint.text
            world.codes.append(complaint.json()["code"])
        # the workers' relay, once: the counter dossiers enter their workflow's first step
        engine_ = create_async_engine(str(settings.db.url))
        try:
            await deliver(engine_, settings, apps)
        finally:
            await engine_.dispose()
    return world


@pytest.fixture(scope="module")
def fuzz_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A database of its own, migrated, that the fuzzer may fill with anything."""
    url = recreate_database(database_url, FUZZ_DATABASE)
    migrate(url)
    return Settings(
        demo=True, log_level="CRITICAL", files_dir=Path(tmp_path_factory.mktemp("fuzz-files"))
    ).with_changes(
        db={"url": url},
        # configured, so the webhooks answer what they answer in production (a bad signature, …)
        payment={"webhook_secret": SecretStr(_secret(b"fuzz-payment-provider-secret!!"))},
        postal={"webhook_secret": SecretStr(_secret(b"fuzz-postal-operator-secret!!!"))},
        sms={"webhook_secret": SecretStr(_secret(b"fuzz-sms-gateway-secret!!!!!!!"))},
    )


@pytest.fixture(scope="module")
def fuzz_world(fuzz_settings: Settings) -> FuzzWorld:
    return asyncio.run(_seed(fuzz_settings))


@dataclass
class Run:
    operations: int = 0
    cases: int = 0
    seconds: float = 0.0
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[str] = field(default_factory=list)

    def summary(self, title: str) -> str:
        answered = Counter(status // 100 for counts in self.statuses.values() for status in counts.elements())
        succeeded = sum(1 for counts in self.statuses.values() if any(200 <= s < 300 for s in counts))
        return (
            f"{title}: {self.operations} operations ({succeeded} with a 2xx), {self.cases} requests "
            f"({', '.join(f'{k}xx: {v}' for k, v in sorted(answered.items()))}) in {self.seconds:.1f} s, "
            f"{len(self.failures)} failures"
        )


def _config(world: FuzzWorld, headers: dict[str, str]) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "headers": headers,
            "workers": 1,
            "phases": {"enabled": True},
            "generation": {
                "mode": "all",  # valid and invalid input
                "max-examples": MAX_EXAMPLES,
                "no-shrink": True,
                "deterministic": os.environ.get("MOTCUA_FUZZ_RANDOM") is None,
                "database": "none",
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            # real codes and usernames half of the time, so the handlers get past "not found"
            "dictionaries": {"codes": {"values": world.codes}, "usernames": {"values": world.usernames}},
            "parameters": {
                "path.code": {"dictionary": "codes", "probability": 0.5},
                "path.username": {"dictionary": "usernames", "probability": 0.5},
            },
        }
    )


def fuzz(app: FastAPI, settings: Settings, world: FuzzWorld) -> Run:
    """Run schemathesis' phases over one app, in-process; collect every failed check.

    Signed in as the demo administrator holding every staff role, so the routes of each role are
    exercised; the sign-out (which ends the caller's tokens) is fuzzed apart, as another account."""
    run = Run()
    operations: set[str] = set()
    started = time.perf_counter()
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(world, {}))
        _admin_auth(schema, settings)
        _collect(schema.exclude(path=LOGOUT), run, operations)
        if LOGOUT in {operation.path for operation in _operations(schema)}:
            spare = asyncio.run(_signed_in(settings, world.usernames[0], []))
            logout = schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(world, spare))
            _collect(logout.include(path=LOGOUT), run, operations)
    finally:
        asgi.shutdown_lifespans()  # the app's engine and pool go with its test, not at interpreter exit
    run.operations = len(operations)
    run.seconds = time.perf_counter() - started
    print(run.summary(app.title))
    for label, counts in sorted(run.statuses.items()):
        print(f"  {label}: {dict(sorted(counts.items()))}")
    return run


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _collect(schema: Any, run: Run, operations: set[str]) -> None:
    for event in list(engine.from_schema(schema).execute()):
        if isinstance(event, events.ScenarioFinished):
            for case_id, node in event.recorder.cases.items():
                case = node.value
                if case.method.upper() != case.operation.method.upper():
                    continue  # schemathesis probing a method the path does not have (405)
                label = f"{case.method.upper()} {case.operation.path}"
                operations.add(label)
                response = event.recorder.find_response(case_id=case_id)
                if response is not None:
                    run.cases += 1
                    run.statuses[label][response.status_code] += 1
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        case = event.recorder.cases[case_id].value
                        response = event.recorder.find_response(case_id=case_id)
                        answer = f"{response.status_code} {response.text[:300]}" if response else "no response"
                        run.failures.append(
                            f"{check.name}: {case.method} {case.formatted_path} query={case.query} "
                            f"body={str(case.body)[:200]}: {check.failure_info.failure.title} -> {answer}"
                        )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            info = event.info
            run.failures.append(
                f"error in {getattr(event, 'label', '?')}: {info.title}: {info.message}\n{info.traceback}"
            )


def test_intake_api_answers_as_documented(fuzz_settings: Settings, fuzz_world: FuzzWorld) -> None:
    run = fuzz(create_intake(fuzz_settings), fuzz_settings, fuzz_world)
    assert not run.failures, "\n".join(run.failures)
    assert run.operations >= 30


def test_workflow_api_answers_as_documented(fuzz_settings: Settings, fuzz_world: FuzzWorld) -> None:
    run = fuzz(create_workflow(fuzz_settings), fuzz_settings, fuzz_world)
    assert not run.failures, "\n".join(run.failures)
    assert run.operations >= 30


def test_notify_api_answers_as_documented(fuzz_settings: Settings, fuzz_world: FuzzWorld) -> None:
    run = fuzz(create_notify(fuzz_settings), fuzz_settings, fuzz_world)
    assert not run.failures, "\n".join(run.failures)
    assert run.operations >= 10
