"""The framework's ceiling on this machine: the least a FastAPI + asyncpg service can do for the same
two jobs, measured beside Một Cửa in the same run (issue 14's baselines).

- ``POST /dossiers``: insert one dossier row and one outbox row in one transaction — what an online
  submission must at least write — and answer 201 with the new code.
- ``GET /dossiers/{code}``: read one dossier row by its code — what tracking must at least read.

No validation beyond the JSON parse, no ORM, no middleware: one uvicorn worker with the same server
options as the services (``uvicorn bench.baseline_app:create_app --factory``). The database, the
procedure version and the agency come from ``BENCH_DSN``, ``BENCH_VERSION_ID`` and
``BENCH_AGENCY_ID`` (bench.bench_http sets them).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException, Request

_INSERT_DOSSIER = """
INSERT INTO dossier (id, code, procedure_version_id, receiving_agency_id, current_agency_id, status, channel,
    lock_version, applicant_kind, applicant_name, applicant_id_number, applicant_phone, applicant_email,
    applicant_address, applicant_locale, return_method, secret_hash, submitted_at, supplement_count, late_by_rule,
    overdue, apology_issued, digitised, paid_online, created_at, updated_at)
VALUES ($1, $2, $3, $4, $4, 'submitted', 2, 1, 'citizen', $5, $6, $7, $8, $9, 'vi', 'counter', 'x', $10,
    0, false, false, false, false, false, $10, $10)
"""
_INSERT_EVENT = """
INSERT INTO outbox_event (id, event_type, destination, source, dossier_id, payload, status, attempts)
VALUES ($1, 'dossier.submitted', 'workflow', 'intake', $2, $3::jsonb, 'pending', 0)
"""
_READ = "SELECT code, status, submitted_at, due_at FROM dossier WHERE code = $1"


def create_app() -> FastAPI:
    dsn = os.environ["BENCH_DSN"]
    version_id = uuid.UUID(os.environ["BENCH_VERSION_ID"])
    agency_id = uuid.UUID(os.environ["BENCH_AGENCY_ID"])
    pool_size = int(os.environ.get("BENCH_POOL", "10"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/dossiers", status_code=201)
    async def insert(request: Request) -> dict[str, Any]:
        body = await request.json()
        applicant = body["applicant"]
        dossier_id, now = uuid.uuid4(), datetime.now(UTC)
        code = f"BASE-{dossier_id.hex[:12].upper()}"
        async with app.state.pool.acquire() as connection, connection.transaction():
            await connection.execute(
                _INSERT_DOSSIER, dossier_id, code, version_id, agency_id, applicant["full_name"],
                applicant["id_number"], applicant["phone"], applicant["email"], applicant["address"], now,
            )  # fmt: skip
            await connection.execute(_INSERT_EVENT, uuid.uuid4(), dossier_id, json.dumps({"dossier_code": code}))
        return {"code": code, "status": "submitted"}

    @app.get("/dossiers/{code}")
    async def read(code: str) -> dict[str, Any]:
        row = await app.state.pool.fetchrow(_READ, code)
        if row is None:
            raise HTTPException(404)
        return dict(row)

    return app
