"""The settings that keep their defaults in a production deployment (deploy/k8s): each is read by the services
but deliberately not set in the manifests. tests/deploy/test_k8s.py fails when a setting is neither wired (a
ConfigMap value or a Secret reference) nor listed here, and when a listed one is wired after all."""

DEFAULTS_KEPT: dict[str, str] = {
    # observability (docs/operations/observability.md): the database gauges read at most every 10 s per API pod;
    # tracing off until the province runs a collector (an overlay then sets the endpoint)
    "MOTCUA_METRICS_CACHE_SECONDS": "10 s",
    "MOTCUA_OTLP_ENDPOINT": "no tracing",
    # demo and tests only: refused at start outside demo mode (Settings.refuse_unsafe_start)
    "MOTCUA_CLOCK_FILE": "time travel, demo only",
    "MOTCUA_WEBHOOK_ALLOW_LOOPBACK": "loopback webhooks, demo only",
    # `make run` and the catalogue import tool, not the services
    "MOTCUA_NATIONAL_CATALOGUE_PATH": "the file shipped in the image is the one to import",
    # tokens and password checks: the defaults are the security review's numbers (README "Security")
    "MOTCUA_JWT_TTL_MINUTES": "30 minutes",
    "MOTCUA_JWT_ISSUER": "motcua",
    "MOTCUA_TOKEN_CHECK_SECONDS": "2 s revocation lag",
    "MOTCUA_PASSWORD_HASH_CONCURRENCY": "one argon2 check at a time per pod (the pod's CPU limit is 1)",
    "MOTCUA_PASSWORD_HASH_QUEUE": "4 waiting, then 503",
    # guessing and anti-automation limits: the security review's numbers
    "MOTCUA_LOGIN_ADDRESS_FAILURES": "20 per 15 min",
    "MOTCUA_LOGIN_ADDRESS_WINDOW_SECONDS": "15 min",
    "MOTCUA_LOGIN_ACCOUNT_FREE_FAILURES": "5 per 15 min",
    "MOTCUA_LOGIN_ACCOUNT_WINDOW_SECONDS": "15 min",
    "MOTCUA_LOGIN_ACCOUNT_SPACING_SECONDS": "2 s",
    "MOTCUA_CITIZEN_ADDRESS_FAILURES": "10 per 15 min",
    "MOTCUA_CITIZEN_ADDRESS_WINDOW_SECONDS": "15 min",
    "MOTCUA_CITIZEN_CODE_FREE_FAILURES": "10 per day",
    "MOTCUA_CITIZEN_CODE_SPACING_SECONDS": "5 s",
    "MOTCUA_PUBLIC_WRITE_WINDOW_SECONDS": "1 h",
    "MOTCUA_PUBLIC_SUBMISSIONS_PER_WINDOW": "30 per address per hour",
    "MOTCUA_PUBLIC_COMPLAINTS_PER_WINDOW": "10 per address per hour",
    "MOTCUA_PUBLIC_CITIZEN_WRITES_PER_WINDOW": "60 per address per hour",
    "MOTCUA_PUBLIC_TRACKING_PER_WINDOW": "120 per address per hour",
    # off: the pools' connections end at PgBouncer, which survives a failover of the database behind it; a server
    # connection lost mid-transaction fails that one request with a 503 (three round trips per checkout saved)
    "MOTCUA_DB_PRE_PING": "off",
    # the queues' tuning: measured in bench/profiles, the same with any number of workers
    "MOTCUA_RELAY_BATCH_SIZE": "50",
    "MOTCUA_RELAY_EVENTS_PER_POST": "10 (bench/profiles/2026-12-05-events.md)",
    "MOTCUA_RELAY_MAX_ATTEMPTS": "8, then parked",
    "MOTCUA_RELAY_LEASE_SECONDS": "30 s",
    "MOTCUA_RELAY_BACKOFF_BASE_SECONDS": "1 s",
    "MOTCUA_RELAY_BACKOFF_MAX_SECONDS": "5 min",
    "MOTCUA_RELAY_POLL_SECONDS": "0.5 s",
    "MOTCUA_RELAY_LISTEN": "on: LISTEN goes to MOTCUA_DB_DIRECT_URL, not through PgBouncer",
    "MOTCUA_NOTIFY_LISTEN": "on: as the relay's",
    "MOTCUA_TOKEN_LISTEN": "on: as the relay's (one direct connection per API pod; docs/operations/replicas.md)",
    "MOTCUA_NOTIFY_SEND_TIMEOUT_SECONDS": "10 s",
    "MOTCUA_NOTIFY_LEASE_SECONDS": "60 s",
    "MOTCUA_NOTIFY_BATCH_SIZE": "50",
    "MOTCUA_NOTIFY_POLL_SECONDS": "0.5 s",
    "MOTCUA_NOTIFY_MAX_ATTEMPTS": "6",
    "MOTCUA_NOTIFY_BACKOFF_BASE_SECONDS": "5 s",
    "MOTCUA_NOTIFY_BACKOFF_MAX_SECONDS": "30 min",
    "MOTCUA_SMTP_CONNECTIONS": "4 per sender",
    "MOTCUA_SMS_CONNECTIONS": "8 per sender",
    "MOTCUA_WEBHOOK_MAX_ATTEMPTS": "10",
    "MOTCUA_IDEMPOTENCY_TTL_SECONDS": "24 h (the IETF draft's advice)",
    "MOTCUA_IDEMPOTENCY_PURGE_SECONDS": "10 min",
    # the working calendar's clocks
    "MOTCUA_SLA_WARNING_SECONDS": "one working day",
    "MOTCUA_TIMER_POLL_SECONDS": "5 s",
    # integrations a province may not have: the overlay adds them when it does
    "MOTCUA_POSTAL_API_URL": "no postal subscription until the province signs one",
    "MOTCUA_WEBHOOK_ALLOWED_NETWORKS": "no private network open to webhooks",
    # issue 16's integrations (docs/integrations/): each is off until the province is onboarded, and then an
    # overlay sets its addresses and identifiers (the secrets are optional Secret references, patches/app-pod.yaml)
    "MOTCUA_NATIONAL_PORTAL_URL": "no sync until the portal's operator issues the endpoint (journal rows wait)",
    "MOTCUA_NATIONAL_PORTAL_CLIENT_ID": "issued with the endpoint",
    "MOTCUA_NATIONAL_PORTAL_TIMEOUT_SECONDS": "10 s",
    "MOTCUA_NATIONAL_PORTAL_MAX_ATTEMPTS": "8, then parked",
    "MOTCUA_NATIONAL_PORTAL_BACKOFF_BASE_SECONDS": "2 s",
    "MOTCUA_NATIONAL_PORTAL_BACKOFF_MAX_SECONDS": "10 min",
    "MOTCUA_NATIONAL_PORTAL_BATCH_SIZE": "50",
    "MOTCUA_NATIONAL_PORTAL_LEASE_SECONDS": "60 s (above twice the timeout)",
    "MOTCUA_NATIONAL_PORTAL_POLL_SECONDS": "1 s (commits wake the sender at once)",
    "MOTCUA_CITIZEN_OIDC_ISSUER": "no citizen accounts until the province is registered at VNeID",
    "MOTCUA_CITIZEN_OIDC_CLIENT_ID": "issued at the registration",
    "MOTCUA_CITIZEN_OIDC_REDIRECT_URI": "registered with the client",
    "MOTCUA_CITIZEN_OIDC_SCOPES": "openid profile, until VNeID's scopes are confirmed at onboarding",
    "MOTCUA_CITIZEN_OIDC_ID_NUMBER_CLAIM": "cccd, until confirmed at onboarding",
    "MOTCUA_CITIZEN_OIDC_NAME_CLAIM": "name, until confirmed at onboarding",
    "MOTCUA_CITIZEN_OIDC_SESSION_MINUTES": "60 min",
    "MOTCUA_CITIZEN_OIDC_METADATA_SECONDS": "1 h (an unknown key id refetches at once)",
    "MOTCUA_CITIZEN_OIDC_TIMEOUT_SECONDS": "5 s",
    # the agency's certificate: documents go out unsigned until it is issued; the overlay then mounts the key
    # files from the Secret motcua-signing (or names the token) and sets these paths
    "MOTCUA_SIGNING_KEY_FILE": "unsigned until the certificate is issued",
    "MOTCUA_SIGNING_CERT_FILE": "with the key file",
    "MOTCUA_SIGNING_PKCS12_FILE": "instead of the key and certificate files",
    "MOTCUA_SIGNING_PKCS11_MODULE": "a token instead of files",
    "MOTCUA_SIGNING_PKCS11_TOKEN_LABEL": "with the token",
    "MOTCUA_SIGNING_PKCS11_KEY_LABEL": "with the token",
    "MOTCUA_SIGNING_PKCS11_CERT_LABEL": "with the token",
    "MOTCUA_SIGNING_TRUST_ROOTS_FILE": "the verification page trusts nothing until the national roots are mounted",
    "MOTCUA_SIGNING_TIMESTAMP_URL": "B-B until the province has a timestamp authority",
    "MOTCUA_PUBLIC_VERIFICATIONS_PER_WINDOW": "60 per address per hour",
    "MOTCUA_ONLINE_RESULT_AUTO_RETURN_DAYS": "10 calendar days",
}
