"""The default for API tests: the apps work on the test's connection, and what they write is rolled back;
a test marked ``committed`` has the apps on their real pools and commits for real."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.models import Complaint
from tests.factories import create_agency, create_staff


def suggestion(agency_code: str) -> dict[str, Any]:
    return {
        "kind": "suggestion",
        "agency_code": agency_code,
        "subject": "Thêm ghế chờ ở quầy",
        "content": "Buổi sáng nhiều người phải đứng chờ ở bộ phận một cửa.",
        "contact": {"name": "Lê Văn Bình"},
    }


async def test_the_apps_see_the_tests_rows_and_nothing_leaves_the_tests_transaction(
    intake: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine, bearer: Callable[..., dict[str, Any]]
) -> None:
    agency = await create_agency(session, level="commune")
    head = await create_staff(session, agency=agency, roles=("head",))
    await session.commit()  # releases a savepoint: the outer transaction stays open

    sent = await intake.post("/api/v1/complaints", json=suggestion(agency.code))
    assert sent.status_code == 201, sent.text  # the agency exists only in the test's transaction
    code = sent.json()["code"]
    listed = await intake.get("/api/v1/complaints", headers=bearer(head))  # the token check reads the staff row
    assert listed.status_code == 200, listed.text
    assert code in [item["code"] for item in listed.json()]
    assert await session.scalar(select(Complaint.id).where(Complaint.code == code)) is not None

    async with AsyncSession(engine) as outside:  # another connection: nothing was committed
        assert await outside.scalar(select(Complaint.id).where(Complaint.code == code)) is None


@pytest.mark.committed
async def test_a_committed_test_writes_for_real(
    intake: httpx.AsyncClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    agency = await create_agency(session, level="commune")
    await session.commit()  # a real commit: the app's own connections see it

    sent = await intake.post("/api/v1/complaints", json=suggestion(agency.code))
    assert sent.status_code == 201, sent.text
    async with AsyncSession(engine) as outside:
        assert await outside.scalar(select(Complaint.id).where(Complaint.code == sent.json()["code"])) is not None
