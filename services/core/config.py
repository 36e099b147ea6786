"""Settings from the environment, prefix ``MOTCUA_`` (DESIGN "Settings")."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.core.clock import Clock, FileClock, SystemClock
from services.core.embedded_pg import REPO_ROOT, EmbeddedPostgres

MIN_SECRET_BYTES = 32
INSECURE_JWT_SECRET = "motcua-demo-secret-not-for-production"  # noqa: S105 - refused outside demo mode


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOTCUA_", env_nested_delimiter="__", extra="ignore")

    database_url: str | None = None
    intake_url: str = "http://127.0.0.1:8001"
    workflow_url: str = "http://127.0.0.1:8002"
    notify_url: str = "http://127.0.0.1:8003"

    jwt_secret: SecretStr = SecretStr(INSECURE_JWT_SECRET)
    jwt_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60)
    jwt_issuer: str = "motcua"
    token_check_seconds: float = Field(
        default=2.0, ge=0, le=5, description="how long a process trusts its view of an account's token version"
    )
    password_hash_concurrency: int = Field(default=1, ge=1, le=16, description="argon2 runs at once per process")
    password_hash_queue: int = Field(default=4, ge=0, description="sign-ins waiting for argon2; more answer 503")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    sms_gateway_url: str | None = None
    postal_api_url: str | None = None
    postal_webhook_secret: SecretStr | None = None
    payment_webhook_secret: SecretStr | None = None
    files_dir: Path = REPO_ROOT / ".data" / "files"

    demo: bool = False
    log_level: str = "INFO"
    max_request_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    max_json_bytes: int = Field(default=1024 * 1024, ge=1024, description="JSON bodies; multipart keeps its own")
    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="comma-separated addresses or networks whose X-Forwarded-For is believed (nginx, the gateway)",
    )

    # the database pool of each process: a request holds at most one connection at a time
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_pool_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="waiting longer answers 503 with Retry-After"
    )

    # outbox relay
    relay_batch_size: int = Field(default=50, ge=1)
    relay_max_attempts: int = Field(default=8, ge=1)
    relay_lease_seconds: int = Field(default=30, ge=1)
    relay_backoff_base_seconds: float = Field(default=1.0, gt=0)
    relay_backoff_max_seconds: float = Field(default=300.0, gt=0)
    relay_poll_seconds: float = Field(default=0.5, gt=0)

    # time limits
    sla_warning_seconds: int = Field(default=8 * 3600, ge=0, description="'due soon' this long before (working time)")
    timer_poll_seconds: float = Field(default=5.0, gt=0)
    clock_file: Path | None = Field(default=None, description="demo/test only: read 'now' from this file")

    # notifications (notify_api's worker): channels, the sender, outbound webhooks
    smtp_from: str = "Một Cửa <no-reply@motcua.local>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_connections: int = Field(default=4, ge=1, le=64, description="SMTP connections kept open per sender")
    sms_webhook_secret: SecretStr | None = Field(default=None, description="delivery receipts from the SMS gateway")
    postal_api_secret: SecretStr | None = Field(default=None, description="signs requests to the postal operator")
    webhook_signing_secret: SecretStr | None = Field(default=None, description="signs webhooks to other subscribers")
    notify_locale: str = Field(default="vi", pattern="^(vi|en)$")
    notify_send_timeout_seconds: float = Field(default=10.0, gt=0, description="one SMTP/SMS/webhook send")
    notify_lease_seconds: int = Field(default=60, ge=1, description="must exceed twice the send timeout")
    notify_batch_size: int = Field(default=50, ge=1)
    notify_poll_seconds: float = Field(default=0.5, gt=0)
    notify_max_attempts: int = Field(default=6, ge=1, description="then the notification is failed")
    notify_backoff_base_seconds: float = Field(default=5.0, gt=0)
    notify_backoff_max_seconds: float = Field(default=1800.0, gt=0)
    notify_email_per_second: float = Field(default=20.0, gt=0, description="shared by every sender")
    notify_sms_per_second: float = Field(default=5.0, gt=0, description="shared by every sender")
    webhook_max_attempts: int = Field(default=10, ge=1, description="outbound webhooks, then failed (replayable)")

    # guessing a dossier's secret (services/intake/citizen.py)
    citizen_address_failures: int = Field(default=10, ge=1, description="failed proofs per address per window")
    citizen_address_window_seconds: int = Field(default=900, ge=1)
    citizen_code_free_failures: int = Field(default=10, ge=0, description="per code per day, before the spacing")
    citizen_code_spacing_seconds: int = Field(default=5, ge=1, le=300, description="then one attempt per code per …")

    # outbound webhooks (SSRF policy) and idempotency records (secrets at rest)
    webhook_allowed_networks: str = Field(
        default="",
        description="comma-separated networks webhooks may reach although denied by default (e.g. a partner's VPN)",
    )
    webhook_allow_loopback: bool = Field(
        default=False, description="demo/test only: webhooks may reach 127.0.0.0/8 and ::1 (the fake receivers)"
    )
    idempotency_ttl_seconds: int = Field(
        default=24 * 3600, ge=60, le=7 * 24 * 3600, description="how long an Idempotency-Key's answer is kept"
    )
    idempotency_purge_seconds: float = Field(
        default=600.0, gt=0, description="how often intake's worker deletes expired idempotency records"
    )

    # the edge: anti-automation, blocking work, public docs and URLs (services/core/edge.py, offload.py)
    public_write_window_seconds: int = Field(default=3600, ge=60, description="the window of the limits below")
    public_submissions_per_window: int = Field(
        default=30, ge=1, description="online submissions (POST /api/v1/dossiers) per client address per window"
    )
    public_complaints_per_window: int = Field(default=10, ge=1, description="complaints per client address per window")
    public_citizen_writes_per_window: int = Field(
        default=60, ge=1, description="uploads, supplements, withdrawals, feedback per client address per window"
    )
    public_tracking_per_window: int = Field(
        default=120, ge=1, description="lookups by phone (POST /api/v1/track) per client address per window"
    )
    pdf_workers: int = Field(default=2, ge=1, le=32, description="PDFs rendered at once per API process (processes)")
    pdf_queue: int = Field(default=4, ge=0, le=1000, description="PDFs waiting for a worker; beyond: 503 Retry-After")
    public_docs: bool | None = Field(
        default=None, description="serve /docs, /redoc, /openapi.json; unset: only in demo mode"
    )
    public_url: str = Field(
        default="http://127.0.0.1:8080",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="the address citizens open (nginx, the gateway): printed in the receipt's QR code",
    )

    # staff sign-in (services/workflow/auth.py)
    login_address_failures: int = Field(default=20, ge=1, description="failed sign-ins per address per window")
    login_address_window_seconds: int = Field(default=900, ge=1)
    login_account_free_failures: int = Field(default=5, ge=0, description="per account per window, then spacing")
    login_account_window_seconds: int = Field(default=900, ge=1)
    login_account_spacing_seconds: int = Field(default=2, ge=1, le=60, description="then one attempt per account per …")

    # the national procedure catalogue (services/intake/national_import.py, loaded by `make run`)
    national_catalogue_path: Path = Field(
        default=REPO_ROOT / "services" / "intake" / "data" / "national_catalogue.jsonl.gz",
        description="JSON lines (gzip when .gz) of the national TTHC catalogue imported when no path is given",
    )
    national_catalogue_on_run: bool = Field(
        default=True, description="make run imports the national catalogue after the demo data"
    )

    def refuse_unsafe_start(self) -> None:
        """Called by every process at start: no default or short secret, no time travel outside demo mode."""
        if len(self.jwt_secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise RuntimeError(f"MOTCUA_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        if not self.demo and self.jwt_secret.get_secret_value() == INSECURE_JWT_SECRET:
            raise RuntimeError("MOTCUA_JWT_SECRET must be set outside demo mode (MOTCUA_DEMO=1 allows the demo secret)")
        if not self.demo and self.clock_file is not None:
            raise RuntimeError("MOTCUA_CLOCK_FILE moves time and is refused outside demo mode")
        if not self.demo and self.webhook_allow_loopback:
            raise RuntimeError("MOTCUA_WEBHOOK_ALLOW_LOOPBACK is for demo and tests; list networks instead")
        if not self.demo and self.postal_api_url and not self.postal_api_url.startswith("https://"):
            raise RuntimeError("MOTCUA_POSTAL_API_URL must be https outside demo mode (it receives personal data)")

    @property
    def docs_public(self) -> bool:
        """Whether the API documentation is served: MOTCUA_PUBLIC_DOCS, else the demo flag."""
        return self.demo if self.public_docs is None else self.public_docs

    def clock(self) -> Clock:
        return FileClock(self.clock_file) if self.clock_file else SystemClock()

    def resolved_database_url(self) -> str:
        """The configured database, or the embedded server of the checkout."""
        if self.database_url:
            url = self.database_url
            for prefix in ("postgresql://", "postgres://"):
                if url.startswith(prefix):
                    url = "postgresql+asyncpg://" + url[len(prefix) :]
            return url
        return EmbeddedPostgres.from_env().url()


@lru_cache
def get_settings() -> Settings:
    return Settings()
