"""``make backup`` / ``make restore`` (issue 15 §5): a journey through the real services, a backup, a restore into
an empty database and an empty files directory, and the same dossiers, documents (bytes) and audit afterwards —
read from the tables and through intake_api started on the restored machine."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.core.embedded_pg import REPO_ROOT
from tests.db import TEST_DATABASE, migrate, recreate_database
from tests.db import test_database_url as server_url
from tests.e2e.conftest import Stack
from tests.factories import create_staff
from tests.intake.setup import PDF, Desk, create_desk, submission

pytestmark = pytest.mark.e2e

FORM = PDF.replace(b"%%EOF", b"% to khai\n%%EOF")
BIRTH = PDF.replace(b"%%EOF", b"% giay chung sinh\n%%EOF")
TABLES = """
SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname = current_schema() ORDER BY 1
"""


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def table_digests(url: str) -> dict[str, str]:
    connection = await asyncpg.connect(dsn(url))
    try:
        digests = {}
        for (table,) in await connection.fetch(TABLES):
            # every row as text, in a stable order: equal digests mean equal contents
            digests[table] = await connection.fetchval(
                f"SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                f' FROM "{table}" t'
            )
        return digests
    finally:
        await connection.close()


async def fetch(url: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(dsn(url))
    try:
        return list(await connection.fetch(query))
    finally:
        await connection.close()


def tool(*args: str, url: str, files: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MOTCUA_DATABASE_URL": url, "MOTCUA_FILES_DIR": str(files)}
    env.pop("MOTCUA_DB_DIRECT_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "services.dev.backup", *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
async def desk(engine: AsyncEngine) -> Desk:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        created = await create_desk(session)
        created.officer = await create_staff(session, agency=created.agency, roles=("counter",), password="quầy-1")
        await session.commit()
        return created


async def journey(stack: Stack, desk: Desk) -> tuple[str, str, dict[str, str]]:
    """An online dossier with a document, accepted, asked for a supplement, supplemented with a second document;
    the officer reads the applicant (an audited read). Answers the code, the secret and the officer's header."""
    async with (
        httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as intake,
        httpx.AsyncClient(base_url=stack.url("workflow"), timeout=30) as workflow,
    ):
        login = await workflow.post(
            "/api/v1/auth/token", data={"username": desk.officer.username, "password": "quầy-1"}
        )
        officer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        online = await intake.post(
            "/api/v1/dossiers",
            data={"data": json.dumps(submission(desk))},
            files=[("D01", ("to-khai.pdf", FORM, "application/pdf"))],
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert online.status_code == 201, online.text
        code, secret = online.json()["code"], online.json()["secret"]
        assert (await intake.post(f"/api/v1/dossiers/{code}/accept", json={}, headers=officer)).status_code == 200
        requested = await intake.post(
            f"/api/v1/dossiers/{code}/supplement-requests",
            json={"items": [{"document": "Giấy chứng sinh", "reason": "Thiếu bản chụp"}]},
            headers=officer,
        )
        assert requested.status_code == 200, requested.text
        supplemented = await intake.post(
            f"/api/v1/dossiers/{code}/supplements",
            data={"data": json.dumps({"secret": secret})},
            files=[("D02", ("chung-sinh.pdf", BIRTH, "application/pdf"))],
        )
        assert supplemented.status_code == 200, supplemented.text
        assert (await intake.get(f"/api/v1/desk/dossiers/{code}", headers=officer)).status_code == 200
    return code, secret, officer


async def test_a_backup_restored_into_an_empty_machine_gives_back_the_same_dossiers_files_and_audit(
    stack: Stack, desk: Desk, e2e_database_url: str, tmp_path: Path
) -> None:
    files_before, files_after = tmp_path / "files-before", tmp_path / "files-after"
    stack.env["MOTCUA_FILES_DIR"] = str(files_before)
    stack.api("intake")
    stack.api("workflow")
    code, secret, officer = await journey(stack, desk)
    stack.stop()
    before = await table_digests(e2e_database_url)
    audit = await fetch(e2e_database_url, "SELECT count(*) AS n FROM audit_log")
    assert audit[0]["n"] >= 2  # the audited sign-in and read of the applicant at the desk
    documents = await fetch(e2e_database_url, "SELECT id, sha256, storage_path FROM document ORDER BY created_at")
    assert [row["sha256"] for row in documents] == [hashlib.sha256(b).hexdigest() for b in (FORM, BIRTH)]

    archive = tmp_path / "backup.tar"
    made = tool("create", "--out", str(archive), url=e2e_database_url, files=files_before)
    assert made.returncode == 0, made.stderr
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    (revision,) = await fetch(e2e_database_url, "SELECT version_num FROM alembic_version")
    assert manifest["schema_revision"] == revision[0]
    assert sorted(f["sha256"] for f in manifest["files"]) == sorted(row["sha256"] for row in documents)

    # an empty machine: a new, empty database and an empty files directory
    restored_url = await asyncio.to_thread(recreate_database, e2e_database_url, f"{TEST_DATABASE}_restored")
    done = tool("restore", str(archive), url=restored_url, files=files_after)
    assert done.returncode == 0, done.stderr
    assert await table_digests(restored_url) == before
    for row in documents:
        assert (files_after / row["storage_path"]).read_bytes() == (files_before / row["storage_path"]).read_bytes()

    # a second restore into the now full database is refused and changes nothing
    again = tool("restore", str(archive), url=restored_url, files=tmp_path / "elsewhere")
    assert again.returncode == 2
    assert "not empty" in again.stderr
    assert await table_digests(restored_url) == before
    # told to, it restores over it: the same rows again, not twice
    forced = tool("restore", str(archive), "--force", url=restored_url, files=files_after)
    assert forced.returncode == 0, forced.stderr
    assert await table_digests(restored_url) == before

    # the restored machine serves the dossier: tracking with the citizen's secret, the documents' bytes to staff
    restored = Stack(restored_url, stack.log_dir)
    restored.env["MOTCUA_FILES_DIR"] = str(files_after)
    try:
        restored.api("intake")
        async with httpx.AsyncClient(base_url=restored.url("intake"), timeout=30) as intake:
            tracked = await intake.get(f"/api/v1/track/{code}", params={"secret": secret})
            assert tracked.status_code == 200, tracked.text
            assert tracked.json()["status"] == "processing"
            for row, body in zip(documents, (FORM, BIRTH), strict=True):
                download = await intake.get(f"/api/v1/dossiers/{code}/documents/{row['id']}", headers=officer)
                assert download.status_code == 200, download.text
                assert download.content == body
    finally:
        restored.stop()


def test_a_damaged_archive_is_refused_before_anything_is_touched(tmp_path: Path) -> None:
    manifest = {"format": "motcua-backup/1", "schema_revision": "x", "database": {"sha256": "0" * 64, "bytes": 4},
                "files": []}  # fmt: skip
    archive = tmp_path / "damaged.tar"
    with tarfile.open(archive, "w") as tar:
        for name, body in (("database.dump", b"PGDM"), ("manifest.json", json.dumps(manifest).encode())):
            (tmp_path / name).write_bytes(body)
            tar.add(tmp_path / name, arcname=name)
    files = tmp_path / "files"
    refused = tool("restore", str(archive), url="postgresql://nobody@127.0.0.1:1/none", files=files)
    assert refused.returncode == 2
    assert "damaged" in refused.stderr
    assert not files.exists()


ROLES_SCRIPT = REPO_ROOT / "deploy" / "compose" / "initdb" / "10-roles.sh"


async def prepare_like_a_deployment(url: str) -> str:
    """An empty database as deployments make it: the owner and application roles and the `motcua` schema
    (deploy/compose/initdb/10-roles.sh, the same statements as the CloudNativePG bootstrap), the database owned by
    the schema's owner as CloudNativePG makes it. Answers the owner's URL."""
    sql = ROLES_SCRIPT.read_text().split("<<'SQL'\n")[1].split("\nSQL")[0]
    sql = sql.replace(":'owner_pw'", "'owner-pw'").replace(":'app_pw'", "'app-pw'")
    parsed = make_url(url)
    connection = await asyncpg.connect(dsn(url))
    try:
        for role in ("motcua_owner", "motcua_app"):  # roles belong to the server: made once per test server
            if await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                sql = "\n".join(line for line in sql.splitlines() if not line.startswith(f"CREATE ROLE {role} "))
        await connection.execute(sql)
        await connection.execute(f'ALTER DATABASE "{parsed.database}" OWNER TO motcua_owner')
    finally:
        await connection.close()
    return parsed.set(username="motcua_owner", password="owner-pw").render_as_string(hide_password=False)


async def test_restored_as_the_schema_owner_the_application_role_keeps_its_rights(tmp_path: Path) -> None:
    """As in a deployment: migrated and backed up as `motcua_owner`, restored as it into a database prepared with
    the roles and the schema; the tables land in `motcua`, owned by the owner, and `motcua_app` reads and writes
    them (the grants come from the owner's default privileges, not from the archive)."""

    source = await asyncio.to_thread(recreate_database, server_url(), f"{TEST_DATABASE}_owned")
    target = await asyncio.to_thread(recreate_database, server_url(), f"{TEST_DATABASE}_owned_restored")
    source_owner, target_owner = await prepare_like_a_deployment(source), await prepare_like_a_deployment(target)
    await asyncio.to_thread(migrate, source_owner)
    files = tmp_path / "files"
    (files / "2026" / "12").mkdir(parents=True)
    (files / "2026" / "12" / "to-khai.pdf").write_bytes(FORM)
    archive = tmp_path / "owned.tar"
    assert tool("create", "--out", str(archive), url=source_owner, files=files).returncode == 0
    done = tool("restore", str(archive), url=target_owner, files=tmp_path / "restored")
    assert done.returncode == 0, done.stderr
    app = make_url(target).set(username="motcua_app", password="app-pw").render_as_string(hide_password=False)
    (where,) = await fetch(app, "SELECT current_schema() AS s, pg_get_userbyid(relowner) AS o FROM pg_class "
                                "WHERE relname = 'dossier_sequence'")  # fmt: skip
    assert (where["s"], where["o"]) == ("motcua", "motcua_owner")
    await fetch(app, "INSERT INTO rate_limit_hit (bucket, window_start, hits) VALUES ('restored', now(), 1)")
    assert (await fetch(app, "SELECT hits FROM rate_limit_hit WHERE bucket = 'restored'"))[0][0] == 1
    assert (tmp_path / "restored" / "2026" / "12" / "to-khai.pdf").read_bytes() == FORM
