"""Issue 11.14 for deployments: the services never connect to the database as a superuser."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.core.embedded_pg import REPO_ROOT

COMPOSE = REPO_ROOT / "deploy" / "compose" / "compose.yaml"
ROLES = REPO_ROOT / "deploy" / "compose" / "initdb" / "10-roles.sh"


def _user(url: str) -> str:
    return url.split("://", 1)[1].split(":", 1)[0]


def test_compose_services_use_an_unprivileged_database_role() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    superuser = compose["services"]["db"]["environment"]["POSTGRES_USER"]
    roles = Path(ROLES).read_text()
    for name, service in compose["services"].items():
        url = (service.get("environment") or {}).get("MOTCUA_DATABASE_URL")
        if url is None:
            continue
        user = _user(url)
        assert user != superuser, name
        assert f"CREATE ROLE {user} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE" in roles, name
    app_users = {
        _user(service["environment"]["MOTCUA_DATABASE_URL"])
        for name, service in compose["services"].items()
        if name not in {"db", "migrate", "nginx"}
    }
    assert app_users == {"motcua_app"}  # only the migration job owns the schema


def test_compose_services_ignore_forwarded_headers_except_from_nginx() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    nginx_ip = compose["services"]["nginx"]["networks"]["default"]["ipv4_address"]
    for name in ("intake", "workflow", "notify"):
        service = compose["services"][name]
        assert "--no-proxy-headers" in service["command"]
        assert service["environment"]["MOTCUA_TRUSTED_PROXIES"] == nginx_ip
