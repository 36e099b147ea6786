"""The settings are nested by concern, and every environment name of before the grouping still works."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import SecretStr, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from services.core.config import Settings, environment
from services.core.embedded_pg import REPO_ROOT
from services.dev.settings_table import README, with_table

# the names deployments used when the settings were one flat class (frozen: a rename must fail here)
_FLAT_NAMES = """
    CITIZEN_ADDRESS_FAILURES CITIZEN_ADDRESS_WINDOW_SECONDS CITIZEN_CODE_FREE_FAILURES
    CITIZEN_CODE_SPACING_SECONDS CLOCK_FILE DATABASE_URL DB_MAX_OVERFLOW DB_POOL_SIZE DB_POOL_TIMEOUT_SECONDS DEMO
    FILES_DIR IDEMPOTENCY_PURGE_SECONDS IDEMPOTENCY_TTL_SECONDS INTAKE_URL JWT_ISSUER JWT_SECRET JWT_TTL_MINUTES
    LOGIN_ACCOUNT_FREE_FAILURES LOGIN_ACCOUNT_SPACING_SECONDS LOGIN_ACCOUNT_WINDOW_SECONDS LOGIN_ADDRESS_FAILURES
    LOGIN_ADDRESS_WINDOW_SECONDS LOG_LEVEL MAX_JSON_BYTES MAX_REQUEST_BYTES NATIONAL_CATALOGUE_ON_RUN
    NATIONAL_CATALOGUE_PATH NOTIFY_BACKOFF_BASE_SECONDS NOTIFY_BACKOFF_MAX_SECONDS NOTIFY_BATCH_SIZE
    NOTIFY_EMAIL_PER_SECOND NOTIFY_LEASE_SECONDS NOTIFY_LOCALE NOTIFY_MAX_ATTEMPTS NOTIFY_POLL_SECONDS
    NOTIFY_SEND_TIMEOUT_SECONDS NOTIFY_SMS_PER_SECOND NOTIFY_URL PASSWORD_HASH_CONCURRENCY PASSWORD_HASH_QUEUE
    PAYMENT_WEBHOOK_SECRET PDF_QUEUE PDF_WORKERS POSTAL_API_SECRET POSTAL_API_URL POSTAL_WEBHOOK_SECRET
    PUBLIC_CITIZEN_WRITES_PER_WINDOW PUBLIC_COMPLAINTS_PER_WINDOW PUBLIC_DOCS PUBLIC_SUBMISSIONS_PER_WINDOW
    PUBLIC_TRACKING_PER_WINDOW PUBLIC_URL PUBLIC_WRITE_WINDOW_SECONDS RELAY_BACKOFF_BASE_SECONDS
    RELAY_BACKOFF_MAX_SECONDS RELAY_BATCH_SIZE RELAY_LEASE_SECONDS RELAY_MAX_ATTEMPTS RELAY_POLL_SECONDS
    SLA_WARNING_SECONDS SMS_GATEWAY_URL SMS_WEBHOOK_SECRET SMTP_CONNECTIONS SMTP_FROM SMTP_HOST SMTP_PASSWORD
    SMTP_PORT SMTP_STARTTLS SMTP_USERNAME TIMER_POLL_SECONDS TOKEN_CHECK_SECONDS TRUSTED_PROXIES
    WEBHOOK_ALLOWED_NETWORKS WEBHOOK_ALLOW_LOOPBACK WEBHOOK_MAX_ATTEMPTS WEBHOOK_SIGNING_SECRET WORKFLOW_URL
"""
HISTORICAL = {"MOTCUA_" + name for name in _FLAT_NAMES.split()}

# candidate texts for a field, the first one its constraints accept and that differs from its default wins
_TEXTS = ["en", "https://cong.example.vn/duong-dan", "/tmp/motcua-setting", "true", "x" * 40, "9100"]


def _group_class(group: str) -> type[BaseSettings]:
    annotation = Settings.model_fields[group].annotation
    assert isinstance(annotation, type)
    assert issubclass(annotation, BaseSettings)
    return annotation


def _field(group: str, name: str) -> FieldInfo:
    if not group:
        return Settings.model_fields[name]
    return _group_class(group).model_fields[name]


def _read(settings: Settings, group: str, name: str) -> Any:
    return getattr(getattr(settings, group) if group else settings, name)


def _plain(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _sample(info: FieldInfo) -> tuple[str, Any]:
    """An environment text for the field and the value it must become: valid, and not the default."""
    constrained: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    adapter: TypeAdapter[Any] = TypeAdapter(constrained)
    default = _plain(info.default)
    numbers = [str(default + 1)] if isinstance(default, int | float) and not isinstance(default, bool) else []
    flags = [str(not default).lower()] if isinstance(default, bool) else []
    for text in [*numbers, *flags, *_TEXTS]:
        try:
            value = adapter.validate_python(text)
        except ValidationError:
            continue
        if _plain(value) != default:
            return text, value
    raise AssertionError(f"no sample for {info}")


def test_every_historical_name_is_still_read() -> None:
    assert not HISTORICAL - set(environment()), sorted(HISTORICAL - set(environment()))


@pytest.mark.parametrize(("env", "place"), sorted(environment().items()))
def test_each_environment_name_lands_in_its_group(
    env: str, place: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    group, name = place
    text, expected = _sample(_field(group, name))
    monkeypatch.setenv(env, text)
    value = _read(Settings(), group, name)
    assert _plain(value) == _plain(expected)
    assert isinstance(value, SecretStr) == isinstance(expected, SecretStr)


@pytest.mark.parametrize(("env", "place"), sorted(environment().items()))
def test_no_second_name_reaches_a_field(env: str, place: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A renamed field (``db.url`` ← ``MOTCUA_DATABASE_URL``) is not also read under its group's prefix."""
    group, name = place
    if not group:
        return
    prefix = _group_class(group).model_config["env_prefix"]
    other = (prefix + name).upper()
    if other == env:
        return
    before = _plain(_read(Settings(), group, name))
    monkeypatch.setenv(other, _sample(_field(group, name))[0])
    assert _plain(_read(Settings(), group, name)) == before


def test_with_changes_validates_and_refuses_unknown_names() -> None:
    settings = Settings(demo=True)
    changed = settings.with_changes(
        demo=False, db={"url": "postgresql://elsewhere/motcua"}, notify={"lease_seconds": 7}
    )
    assert (changed.demo, changed.db.url, changed.notify.lease_seconds) == (False, "postgresql://elsewhere/motcua", 7)
    assert changed.notify.locale == settings.notify.locale  # the rest of the group is kept
    with pytest.raises(ValueError, match="lease"):
        settings.with_changes(notify={"lease": 7})
    with pytest.raises(ValidationError):
        settings.with_changes(urls={"public": "javascript:alert(1)"})
    assert changed.db.resolved_url() == "postgresql+asyncpg://elsewhere/motcua"


def test_files_and_paths_keep_their_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_FILES_DIR", "/srv/motcua/files")
    assert Settings().files_dir == Path("/srv/motcua/files")


def test_every_setting_has_a_meaning() -> None:
    missing = [env for env, (group, name) in environment().items() if not _field(group, name).description]
    assert not missing


def test_the_readme_table_is_the_model() -> None:
    text = README.read_text(encoding="utf-8")
    assert with_table(text) == text, "run: .venv/bin/python -m services.dev.settings_table --write"


def test_the_deploy_files_name_only_settings_that_exist() -> None:
    """compose and the Dockerfile stay valid: a name the settings do not read would be silently ignored."""
    database_roles = {"MOTCUA_OWNER_PASSWORD", "MOTCUA_APP_PASSWORD"}  # deploy/compose/initdb creates the roles
    named = {
        name
        for path in (REPO_ROOT / "deploy").rglob("*")
        if path.is_file()
        for name in re.findall(r"MOTCUA_[A-Z0-9_]+", path.read_text(encoding="utf-8"))
    }
    assert named, "deploy/ names no settings: the pattern or the folder moved"
    assert not named - set(environment()) - database_roles
