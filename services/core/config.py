"""Settings from the environment, prefix ``MOTCUA_`` (DESIGN "Settings"), nested by concern.

``settings.db.url``, ``settings.auth.jwt_secret``, ``settings.notify.lease_seconds``…: each concern is a
small ``BaseSettings`` group with its own ``env_prefix``, built from the environment when ``Settings`` is.
Decisions:

- **The environment names did not change when the settings were grouped.** A group's prefix plus the
  field's name gives the historical name (``MOTCUA_RELAY_`` + ``lease_seconds``); where it would not, the
  field carries that name as its ``validation_alias`` (``db.url`` ← ``MOTCUA_DATABASE_URL``). Deployments
  keep their files; tests/test_settings.py sets every name and checks where it lands.
- **The README's table is generated from these classes** (``python -m services.dev.settings_table``),
  so every field has a description and the test fails when the table and the model disagree.
- Tests and tools derive a validated variant with ``Settings.with_changes`` (``db={"url": …}``,
  ``notify={"lease_seconds": 2}``) rather than ``model_copy``, which neither validates nor knows the groups.
- Secrets are ``SecretStr``; a process refuses to start outside demo mode with the demo secret.

Long because it is one table: a small class per concern, each field with its bounds and its description (the
README's table), and the machinery that reads them; splitting the groups across modules would scatter the one
place an operator's setting is looked up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from services.core.clock import Clock, FileClock, SystemClock
from services.core.embedded_pg import REPO_ROOT, EmbeddedPostgres
from services.core.replicas import replica_urls

MIN_SECRET_BYTES = 32
INSECURE_JWT_SECRET = "motcua-demo-secret-not-for-production"  # noqa: S105 - refused outside demo mode
PREFIX = "MOTCUA_"


def _group(prefix: str) -> SettingsConfigDict:
    """The configuration every group shares: its own prefix, unknown names ignored, fields by name too."""
    return SettingsConfigDict(env_prefix=prefix, extra="ignore")


class DbSettings(BaseSettings):
    """The database and each process's pool: a request holds at most one connection at a time."""

    model_config = _group(PREFIX + "DB_")

    url: str | None = Field(
        default=None,
        validation_alias=PREFIX + "DATABASE_URL",
        description="`postgresql://` or `postgresql+asyncpg://` URL; unset: the embedded PostgreSQL in `.data/pg` "
        "on 127.0.0.1:54329",
    )
    direct_url: str | None = Field(
        default=None,
        description="the database without a transaction pooler, for the session-bound connections (the workers' "
        "LISTEN, the APIs' counters pool); unset: `MOTCUA_DATABASE_URL` (deploy/k8s: the primary's Service)",
    )
    pool_size: int = Field(default=10, ge=1, le=200, description="connections each process keeps")
    max_overflow: int = Field(
        default=0,
        ge=0,
        le=200,
        description="connections beyond the pool at busy times, each closed when given back (0: a fixed pool, "
        "no connection opened per request under load)",
    )
    pre_ping: bool = Field(
        default=False,
        description="test each connection as it leaves the pool (three round trips each time); off: a connection "
        "the database dropped fails one request with 503 database_unavailable and is replaced",
    )
    limits_pool_size: int = Field(
        default=4, ge=1, le=50, description="connections each API keeps for the rate and guess counters (fixed)"
    )
    worker_pool_size: int = Field(
        default=10,
        ge=2,
        le=100,
        description="connections each worker process keeps for its tasks (relay, senders, timers), as many again "
        "at busy times",
    )
    pool_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="a request waiting longer for a connection answers 503 with Retry-After"
    )

    @staticmethod
    def with_driver(url: str) -> str:
        """``postgresql://`` (or ``postgres://``) as ``postgresql+asyncpg://``; other URLs unchanged."""
        return re.sub(r"^postgres(ql)?://", "postgresql+asyncpg://", url)

    def resolved_url(self) -> str:
        """The configured database (as an asyncpg URL), or the embedded server of the checkout."""
        if self.url:
            return self.with_driver(self.url)
        return EmbeddedPostgres.from_env().url()

    def resolved_direct_url(self) -> str:
        """Where the session-bound connections go: the direct URL when set, else the database URL."""
        return self.with_driver(self.direct_url) if self.direct_url else self.resolved_url()


class UrlSettings(BaseSettings):
    """Where the services reach each other (and their relays), and where citizens reach the portal."""

    model_config = _group(PREFIX)

    intake: str = Field(
        default="http://127.0.0.1:8001",
        validation_alias=PREFIX + "INTAKE_URL",
        description="intake_api: one URL, or its replicas' comma-separated; `make run` takes the first one's port",
    )
    workflow: str = Field(
        default="http://127.0.0.1:8002",
        validation_alias=PREFIX + "WORKFLOW_URL",
        description="workflow_api: one URL, or its replicas' comma-separated; `make run` takes the first one's port",
    )
    notify: str = Field(
        default="http://127.0.0.1:8003",
        validation_alias=PREFIX + "NOTIFY_URL",
        description="notify_api: one URL, or its replicas' comma-separated; `make run` takes the first one's port",
    )
    public: str = Field(
        default="http://127.0.0.1:8080",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        validation_alias=PREFIX + "PUBLIC_URL",
        description="the address citizens open (nginx, the gateway): printed in the receipt's QR code "
        "(required in `deploy/compose`)",
    )

    def replicas(self) -> dict[str, tuple[str, ...]]:  # each service's replicas' URLs: services.core.replicas
        return {service: replica_urls(getattr(self, service)) for service in ("intake", "workflow", "notify")}

    def base(self, service: str) -> str:
        """The service's first URL: requests are addressed to it and spread over the replicas by the client."""
        return self.replicas()[service][0]


class AuthSettings(BaseSettings):
    """Tokens and password checks (services/core/auth.py, revocation.py)."""

    model_config = _group(PREFIX)

    jwt_secret: SecretStr = Field(
        default=SecretStr(INSECURE_JWT_SECRET),
        description="the master secret, at least 32 bytes, from which each purpose's key is derived (staff tokens, "
        "service tokens, tracking HMAC, sealed idempotency answers); **required outside demo mode**",
    )
    jwt_ttl_minutes: int = Field(default=30, ge=1, le=24 * 60, description="token lifetime")
    jwt_issuer: str = Field(default="motcua", description="the tokens' `iss`")
    token_check_seconds: float = Field(
        default=2.0, ge=0, le=5, description="how long a process trusts its view of an account's token version"
    )
    token_listen: bool = Field(
        default=True,
        description="drop that view at once on a change's NOTIFY (a LISTEN per API process); off: the check only",
    )
    password_hash_concurrency: int = Field(default=1, ge=1, le=16, description="argon2 checks at once per process")
    password_hash_queue: int = Field(default=4, ge=0, description="sign-ins waiting for argon2; more answer 503")


class LoginLimits(BaseSettings):
    """Guessing staff passwords (services/workflow/auth.py): per address, then per account over all addresses."""

    model_config = _group(PREFIX + "LOGIN_")

    address_failures: int = Field(default=20, ge=1, description="failed sign-ins per address per window")
    address_window_seconds: int = Field(default=900, ge=1, description="the window of the per-address failures")
    account_free_failures: int = Field(
        default=5, ge=0, description="failed sign-ins per account per window over all addresses, then the spacing"
    )
    account_window_seconds: int = Field(default=900, ge=1, description="the window of the per-account failures")
    account_spacing_seconds: int = Field(
        default=2, ge=1, le=60, description="then one attempt per account per this many seconds"
    )


class CitizenProofLimits(BaseSettings):
    """Guessing a dossier's secret (services/intake/citizen.py): per address, then per dossier code."""

    model_config = _group(PREFIX + "CITIZEN_")

    address_failures: int = Field(default=10, ge=1, description="failed proofs of a dossier's secret per address")
    address_window_seconds: int = Field(default=900, ge=1, description="the window of the per-address failures")
    code_free_failures: int = Field(
        default=10, ge=0, description="failed proofs per dossier code per day over all addresses, then the spacing"
    )
    code_spacing_seconds: int = Field(
        default=5, ge=1, le=300, description="then one attempt per dossier code per this many seconds"
    )


class PublicWriteLimits(BaseSettings):
    """Anti-automation on the public writes, per client address (services/core/throttle.py)."""

    model_config = _group(PREFIX + "PUBLIC_")

    window_seconds: int = Field(
        default=3600,
        ge=60,
        validation_alias=PREFIX + "PUBLIC_WRITE_WINDOW_SECONDS",
        description="the window of the per-address limits on public writes",
    )
    submissions_per_window: int = Field(
        default=30, ge=1, description="online submissions (POST /api/v1/dossiers) per client address per window"
    )
    complaints_per_window: int = Field(default=10, ge=1, description="complaints per client address per window")
    citizen_writes_per_window: int = Field(
        default=60, ge=1, description="uploads, supplements, withdrawals, feedback per client address per window"
    )
    tracking_per_window: int = Field(
        default=120, ge=1, description="lookups by phone (POST /api/v1/track) per client address per window"
    )
    verifications_per_window: int = Field(
        default=60, ge=1, description="PDFs checked (POST /api/v1/signatures/verify) per client address per window"
    )


class EdgeSettings(BaseSettings):
    """The edge of every API: body limits, trusted proxies, blocking work, public docs (core/app.py, net.py)."""

    model_config = _group(PREFIX)

    max_request_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1024, description="larger multipart bodies get a 413 problem"
    )
    max_json_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="larger non-multipart (JSON) bodies get a 413 problem"
    )
    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="comma-separated addresses or networks whose `X-Forwarded-For` is believed (nginx, the gateway); "
        "everyone else is their TCP address",
    )
    pdf_workers: int = Field(default=2, ge=1, le=32, description="PDFs rendered at once per API process (processes)")
    pdf_queue: int = Field(default=4, ge=0, le=1000, description="PDFs waiting for a worker; beyond: 503 Retry-After")
    public_docs: bool | None = Field(
        default=None, description="serve `/docs`, `/redoc`, `/openapi.json`; unset: only in demo mode"
    )


class RelaySettings(BaseSettings):
    """The outbox relay (services/outbox/relay.py) of each service's worker."""

    model_config = _group(PREFIX + "RELAY_")

    batch_size: int = Field(default=50, ge=1, description="events claimed at once")
    events_per_post: int = Field(
        default=10,
        ge=1,
        le=500,
        description="events to one service sent in one request (`/internal/v1/events/batch`); 1: one request each",
    )
    max_attempts: int = Field(default=8, ge=1, description="then the event is parked")
    lease_seconds: int = Field(default=30, ge=1, description="how long a claim holds before another relay may take it")
    backoff_base_seconds: float = Field(default=1.0, gt=0, description="first wait after a failure (doubling)")
    backoff_max_seconds: float = Field(default=300.0, gt=0, description="longest wait between attempts")
    poll_seconds: float = Field(default=0.5, gt=0, description="how often an idle relay looks again")
    listen: bool = Field(
        default=True,
        description="wake the relay at the commit of an event (LISTEN/NOTIFY, one connection per relay); "
        "off: polling only",
    )


class SlaSettings(BaseSettings):
    """Time limits: "due soon" and the timer worker (services/sla/)."""

    model_config = _group(PREFIX + "SLA_")

    warning_seconds: int = Field(
        default=8 * 3600, ge=0, description='"due soon" this much working time before a due time'
    )
    timer_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        validation_alias=PREFIX + "TIMER_POLL_SECONDS",
        description="how often the timer worker scans",
    )
    online_result_auto_return_days: int = Field(
        default=10,
        ge=1,
        le=365,
        validation_alias=PREFIX + "ONLINE_RESULT_AUTO_RETURN_DAYS",
        description="an electronic result not downloaded is returned by the system this many calendar days "
        "after the resolution (services/dossier/eresult.py)",
    )


class IdempotencySettings(BaseSettings):
    """``Idempotency-Key`` records (services/core/idempotency.py): their answers are secrets at rest."""

    model_config = _group(PREFIX + "IDEMPOTENCY_")

    ttl_seconds: int = Field(
        default=24 * 3600, ge=60, le=7 * 24 * 3600, description="how long an `Idempotency-Key`'s answer is kept"
    )
    purge_seconds: float = Field(
        default=600.0, gt=0, description="how often intake's worker deletes expired idempotency records"
    )


class NotifySettings(BaseSettings):
    """The notification sender of notify_api's worker: language, retries, leases, rates per channel."""

    model_config = _group(PREFIX + "NOTIFY_")

    locale: str = Field(
        default="vi",
        pattern="^(vi|en)$",
        description="language of the staff's messages (each applicant chooses theirs: `language` in the submission)",
    )
    send_timeout_seconds: float = Field(default=10.0, gt=0, description="one SMTP/SMS/webhook send")
    lease_seconds: int = Field(default=60, ge=1, description="a claim's lease; must exceed twice the send timeout")
    batch_size: int = Field(default=50, ge=1, description="notifications claimed at once")
    poll_seconds: float = Field(default=0.5, gt=0, description="how often an idle sender looks again")
    listen: bool = Field(
        default=True,
        description="wake the sender and the webhook dispatcher at the commit of a notification or delivery "
        "(LISTEN/NOTIFY, one connection per channel); off: polling only",
    )
    max_attempts: int = Field(default=6, ge=1, description="then the notification is failed")
    backoff_base_seconds: float = Field(default=5.0, gt=0, description="first wait after a failure (doubling)")
    backoff_max_seconds: float = Field(default=1800.0, gt=0, description="longest wait between attempts")
    email_per_second: float = Field(default=20.0, gt=0, description="emails per second, shared by every sender")
    sms_per_second: float = Field(default=5.0, gt=0, description="SMS per second, shared by every sender")


class SmtpSettings(BaseSettings):
    """The email channel (services/notification/smtp.py)."""

    model_config = _group(PREFIX + "SMTP_")

    host: str = Field(default="127.0.0.1", description="SMTP server")
    port: int = Field(default=8025, description="SMTP port")
    sender: str = Field(
        default="Một Cửa <no-reply@motcua.local>", validation_alias=PREFIX + "SMTP_FROM", description="the From header"
    )
    username: str | None = Field(default=None, description="SMTP login, if the server asks for one")
    password: SecretStr | None = Field(default=None, description="SMTP password")
    starttls: bool = Field(default=False, description="upgrade the connection with STARTTLS")
    connections: int = Field(default=4, ge=1, le=64, description="SMTP connections kept open per sender")


class SmsSettings(BaseSettings):
    """The SMS channel: an HTTP gateway, and its delivery receipts (services/notification/receipts.py)."""

    model_config = _group(PREFIX + "SMS_")

    gateway_url: str | None = Field(default=None, description="SMS HTTP gateway; unset: no SMS is sent")
    webhook_secret: SecretStr | None = Field(default=None, description="signs the SMS gateway's delivery receipts")
    connections: int = Field(
        default=8, ge=1, le=64, description="SMS requests in flight at once per sender (the pool slows down past ~10)"
    )


class WebhookSettings(BaseSettings):
    """Outbound webhooks to subscribers (services/notification/outbound.py) and their SSRF policy (core/egress.py)."""

    model_config = _group(PREFIX + "WEBHOOK_")

    signing_secret: SecretStr | None = Field(
        default=None, description="signs webhooks to subscribers other than the postal operator"
    )
    max_attempts: int = Field(default=10, ge=1, description="then the delivery is failed (replayable)")
    allowed_networks: str = Field(
        default="",
        description="comma-separated networks outbound webhooks may reach although denied by default "
        "(e.g. a partner's private link)",
    )
    allow_loopback: bool = Field(
        default=False,
        description="demo/test only: webhooks may reach 127.0.0.0/8 and ::1 (never the database's port); "
        "refused at start outside demo mode",
    )


class PostalSettings(BaseSettings):
    """The public post (bưu chính công ích): its API for pick-ups, and its webhooks to intake."""

    model_config = _group(PREFIX + "POSTAL_")

    api_url: str | None = Field(
        default=None, description="the postal operator's API (https outside demo mode); unset: no postal subscription"
    )
    api_secret: SecretStr | None = Field(default=None, description="signs requests to the postal operator")
    webhook_secret: SecretStr | None = Field(default=None, description="checks the postal operator's webhooks")


class PaymentSettings(BaseSettings):
    """The payment provider's webhooks to intake."""

    model_config = _group(PREFIX + "PAYMENT_")

    webhook_secret: SecretStr | None = Field(default=None, description="checks the payment provider's webhooks")


class NationalPortalSettings(BaseSettings):
    """The national public-service portal (Cổng DVCQG): every state change of a dossier is synced to it
    (services/portal/; docs/integrations/national-portal.md). Sent by the notify worker only."""

    model_config = _group(PREFIX + "NATIONAL_PORTAL_")

    url: str | None = Field(
        default=None,
        description="the portal's sync endpoint (https outside demo mode: it receives the applicant's name and "
        "identity number); unset: nothing is sent, the state changes wait in `portal_sync`",
    )
    client_id: str | None = Field(default=None, description="the province's account at the portal (HTTP Basic user)")
    secret: SecretStr | None = Field(default=None, description="that account's secret (HTTP Basic password)")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="one sync request, connect to answer")
    max_attempts: int = Field(default=8, ge=1, le=100, description="then the state change is parked (replayable)")
    backoff_base_seconds: float = Field(default=2.0, gt=0, description="first wait after a failure (doubling)")
    backoff_max_seconds: float = Field(default=600.0, gt=0, description="longest wait between attempts")
    batch_size: int = Field(default=50, ge=1, le=1000, description="state changes claimed at once (one per dossier)")
    lease_seconds: float = Field(
        default=60.0, gt=0, description="a claim's lease; must exceed twice the timeout (a slow answer is not re-sent)"
    )
    poll_seconds: float = Field(default=1.0, gt=0, description="how often an idle sync worker looks again")


class CatalogueSettings(BaseSettings):
    """The national procedure catalogue (services/intake/national_import.py, loaded by `make run`)."""

    model_config = _group(PREFIX + "NATIONAL_CATALOGUE_")

    path: Path = Field(
        default=REPO_ROOT / "services" / "intake" / "data" / "national_catalogue.jsonl.gz",
        description="JSON lines (gzip when .gz) of the national TTHC catalogue imported when no path is given",
    )
    on_run: bool = Field(default=True, description="`make run` imports the national catalogue after the demo data")


class SigningSettings(BaseSettings):
    """The agency's signing key for the receipts and results (PAdES, services/core/signing.py); one of a PEM
    key and certificate, a PKCS#12 file or a PKCS#11 token. Unset outside demo mode: nothing is signed;
    in demo mode: a demo CA and one certificate per agency, made on first use (services/core/signing_keys.py)."""

    model_config = _group(PREFIX + "SIGNING_")

    key_file: Path | None = Field(
        default=None, description="PEM private key (PKCS#8, encrypted with `MOTCUA_SIGNING_PASSWORD` or not)"
    )
    cert_file: Path | None = Field(
        default=None,
        description="PEM certificate of that key, followed by its intermediate certificates",
    )
    pkcs12_file: Path | None = Field(
        default=None, description="PKCS#12 (.p12/.pfx) with the key, its certificate and chain; instead of the PEM pair"
    )
    password: SecretStr | None = Field(default=None, description="password of the PEM key or the PKCS#12 file")
    pkcs11_module: str | None = Field(
        default=None, description="PKCS#11 library of a token or HSM (needs the `pkcs11` extra: python-pkcs11)"
    )
    pkcs11_token_label: str | None = Field(default=None, description="the token's label")
    pkcs11_key_label: str | None = Field(default=None, description="the signing key's label on the token")
    pkcs11_cert_label: str | None = Field(default=None, description="its certificate's label; unset: the key's")
    pkcs11_pin: SecretStr | None = Field(default=None, description="the token's user PIN")
    trust_roots_file: Path | None = Field(
        default=None,
        description="PEM root certificates a signature must chain to for the verification page to call it trusted "
        "(in demo mode the demo CA is added)",
    )
    timestamp_url: str | None = Field(
        default=None, description="RFC 3161 timestamp server: signatures become PAdES B-T; unset: B-B"
    )


class ObservabilitySettings(BaseSettings):
    """Metrics and traces (services/core/metrics.py, tracing.py; docs/operations/observability.md)."""

    model_config = _group(PREFIX)

    metrics_token: SecretStr | None = Field(
        default=None,
        description="the bearer token Prometheus sends to `/metrics` (APIs and workers); unset: `/metrics` "
        "refuses everyone",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="workers only: serve `/metrics` on this port (one port per worker process); unset: no listener",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="workers only: the address of the metrics listener (`0.0.0.0` in a pod)"
    )
    metrics_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        le=300,
        description="the database gauges (outbox, notifications, overdue dossiers) are read at most this often "
        "per API process, one statement",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s]+$",
        description="send traces to this OTLP/HTTP collector (e.g. `http://otel-collector:4318`); unset: no "
        "tracing (a no-op)",
    )


class CitizenOidcSettings(BaseSettings):
    """Citizens' sign-in through an OpenID Connect provider (VNeID in production; services/intake/oidc.py).

    Off while ``issuer``, ``client_id`` or ``redirect_uri`` is unset: the secret-based flow stays for everyone.
    VNeID's exact claim names are confirmed at onboarding; the ``*_claim`` settings map them."""

    model_config = _group(PREFIX + "CITIZEN_OIDC_")

    issuer: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s?#]+$",
        description="the provider's issuer URL (its discovery document is `<issuer>/.well-known/openid-configuration`; "
        "https outside demo mode); unset: citizen accounts are off",
    )
    client_id: str | None = Field(default=None, max_length=200, description="our client id at the provider")
    client_secret: SecretStr | None = Field(
        default=None, description="our client secret at the provider (sent as `client_secret_basic`)"
    )
    redirect_uri: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s?#]+$",
        description="the callback registered at the provider: the public URL of intake's "
        "`/api/v1/citizen/callback` (behind nginx: `https://<host>/intake/api/v1/citizen/callback`)",
    )
    scopes: str = Field(default="openid profile", description="the scopes asked for, space-separated")
    id_number_claim: str = Field(
        default="cccd", max_length=100, description="the ID token claim holding the citizen's 12-digit CCCD number"
    )
    name_claim: str = Field(default="name", max_length=100, description="the claim holding the citizen's full name")
    session_minutes: int = Field(
        default=60, ge=5, le=24 * 60, description="lifetime of a citizen's session cookie after sign-in"
    )
    metadata_seconds: int = Field(
        default=3600,
        ge=0,
        le=86_400,
        description="how long a process keeps the provider's discovery document and keys (an unknown key id "
        "refetches the keys at once)",
    )
    timeout_seconds: float = Field(
        default=5.0, gt=0, le=30, description="each call to the provider (discovery, keys, token exchange)"
    )

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id and self.redirect_uri)


class _ProcessWideEnvironment(EnvSettingsSource):
    """The top level reads its own fields only: each group reads its own names, so ``MOTCUA_NOTIFY`` (say)
    is not a second, JSON-valued way of setting the ``notify`` group (and cannot break a start)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings):
            return None, field_name, False
        return super().get_field_value(field, field_name)


class Settings(BaseSettings):
    """Everything a process reads from its environment: a few process-wide values, then one group per concern."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _ProcessWideEnvironment(settings_cls), dotenv_settings, file_secret_settings

    demo: bool = Field(default=False, description="load demo data and accounts; never in production")
    log_level: str = Field(default="INFO", description="the processes' log level")
    clock_file: Path | None = Field(
        default=None, description="demo/test only: every process reads 'now' from this file"
    )
    files_dir: Path = Field(default=REPO_ROOT / ".data" / "files", description="uploaded documents")

    db: DbSettings = Field(default_factory=DbSettings)
    urls: UrlSettings = Field(default_factory=UrlSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    login: LoginLimits = Field(default_factory=LoginLimits)
    citizen_proof: CitizenProofLimits = Field(default_factory=CitizenProofLimits)
    public_writes: PublicWriteLimits = Field(default_factory=PublicWriteLimits)
    edge: EdgeSettings = Field(default_factory=EdgeSettings)
    relay: RelaySettings = Field(default_factory=RelaySettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    idempotency: IdempotencySettings = Field(default_factory=IdempotencySettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    postal: PostalSettings = Field(default_factory=PostalSettings)
    payment: PaymentSettings = Field(default_factory=PaymentSettings)
    catalogue: CatalogueSettings = Field(default_factory=CatalogueSettings)
    national_portal: NationalPortalSettings = Field(default_factory=NationalPortalSettings)
    observe: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    citizen_oidc: CitizenOidcSettings = Field(default_factory=CitizenOidcSettings)
    signing: SigningSettings = Field(default_factory=SigningSettings)

    def refuse_unsafe_start(self) -> None:
        """Called by every process at start: no default or short secret, no time travel outside demo mode."""
        secret = self.auth.jwt_secret.get_secret_value()
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise RuntimeError(f"MOTCUA_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        if not self.demo and secret == INSECURE_JWT_SECRET:
            raise RuntimeError("MOTCUA_JWT_SECRET must be set outside demo mode (MOTCUA_DEMO=1 allows the demo secret)")
        if not self.demo and self.clock_file is not None:
            raise RuntimeError("MOTCUA_CLOCK_FILE moves time and is refused outside demo mode")
        if not self.demo and self.webhooks.allow_loopback:
            raise RuntimeError("MOTCUA_WEBHOOK_ALLOW_LOOPBACK is for demo and tests; list networks instead")
        signing = self.signing
        if bool(signing.key_file) != bool(signing.cert_file):
            raise RuntimeError("MOTCUA_SIGNING_KEY_FILE and MOTCUA_SIGNING_CERT_FILE go together")
        if signing.pkcs11_module and not (
            signing.pkcs11_token_label and signing.pkcs11_key_label and signing.pkcs11_pin
        ):
            raise RuntimeError("MOTCUA_SIGNING_PKCS11_MODULE needs the token label, the key label and the PIN")
        if not self.demo and self.postal.api_url and not self.postal.api_url.startswith("https://"):
            raise RuntimeError("MOTCUA_POSTAL_API_URL must be https outside demo mode (it receives personal data)")
        if not self.demo and (self.citizen_oidc.issuer or "https://").startswith("http://"):
            raise RuntimeError("MOTCUA_CITIZEN_OIDC_ISSUER must be https outside demo mode (it vouches for identities)")
        portal = self.national_portal.url
        if not self.demo and portal and not portal.startswith("https://"):
            raise RuntimeError("MOTCUA_NATIONAL_PORTAL_URL must be https outside demo mode (it receives personal data)")
        if portal and self.national_portal.lease_seconds <= 2 * self.national_portal.timeout_seconds:
            # the sender hands back a row whose lease could lapse mid-request: nothing would ever be sent
            raise RuntimeError("MOTCUA_NATIONAL_PORTAL_LEASE_SECONDS must exceed twice its TIMEOUT_SECONDS")

    @property
    def docs_public(self) -> bool:
        """Whether the API documentation is served: MOTCUA_PUBLIC_DOCS, else the demo flag."""
        return self.demo if self.edge.public_docs is None else self.edge.public_docs

    def clock(self) -> Clock:
        return FileClock(self.clock_file) if self.clock_file else SystemClock()

    def with_changes(self, **changes: Any) -> Settings:
        """A validated copy with some values changed: ``with_changes(demo=True, notify={"lease_seconds": 2})``.

        A group takes a mapping of its fields by name (the rest of the group is kept) or a whole group.
        Unknown names raise, where ``model_copy(update=…)`` would silently add an attribute nobody reads.
        Groups are rebuilt through their environment names (the only names they accept, so that no second
        environment name exists): every field is given, so nothing is read from the environment.
        """
        values: dict[str, Any] = {}
        for name, change in changes.items():
            if name not in type(self).model_fields:
                raise ValueError(f"Settings has no field {name!r}")
            current = getattr(self, name)
            if isinstance(current, BaseSettings) and isinstance(change, Mapping):
                fields = type(current).model_fields
                unknown = sorted(set(change) - set(fields))
                if unknown:
                    raise ValueError(f"Settings.{name} has no field {unknown}")
                merged = {**dict(current), **change}
                change = type(current)(**{str(fields[key].validation_alias or key): v for key, v in merged.items()})
            values[name] = change
        return type(self)(**{**dict(self), **values})


def environment() -> dict[str, tuple[str, str]]:
    """Every environment name the settings read → (group, field); ``""`` is the top level."""
    names: dict[str, tuple[str, str]] = {}
    for name, info in Settings.model_fields.items():
        group = info.annotation
        if isinstance(group, type) and issubclass(group, BaseSettings):
            prefix = group.model_config.get("env_prefix", "")
            for field, inner in group.model_fields.items():
                names[str(inner.validation_alias or prefix + field).upper()] = (name, field)
        else:
            names[(PREFIX + name).upper()] = ("", name)
    return names


@lru_cache
def get_settings() -> Settings:
    return Settings()
