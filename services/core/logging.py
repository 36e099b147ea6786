"""Structured JSON logs with a request id, scrubbed of personal data.

Personal data (CCCD numbers, phones, emails, addresses) is never meant to reach a log call;
the scrubbing filter is the second line of defence for what slips through (a query string,
an exception message, a third-party library).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

SENSITIVE_KEYS = frozenset(
    {
        "id_number",
        "cccd",
        "phone",
        "email",
        "address",
        "postal_address",
        "applicant",
        "password",
        "secret",
        "contact_phone",
        "contact_email",
        "contact_name",
        "full_name",
        "authorization",
    }
)
REDACTED = "[redacted]"

_PATTERNS = [
    # key=value in query strings and messages, e.g. ?phone=0912345678&address=...
    re.compile(r"(?i)\b(" + "|".join(sorted(SENSITIVE_KEYS)) + r")=([^&\s\"']*)"),
]
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ID_NUMBER = re.compile(r"(?<!\d)\d{12}(?!\d)|(?<!\d)\d{10}(?:-\d{3})?(?!\d)")  # CCCD, tax code
_PHONE = re.compile(r"(?<![\w.-])(?:\+?84|0)(?:[\s.-]?\d){8,10}(?!\d)")
_BEARER = re.compile(r"(?i)bearer\s+[\w.-]+")


def scrub_text(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    text = _BEARER.sub("Bearer " + REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    text = _ID_NUMBER.sub(REDACTED, text)
    return _PHONE.sub(REDACTED, text)


def scrub(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": scrub_text(record.getMessage()),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = scrub(value, key)
        if record.exc_info:
            entry["exc"] = scrub_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """One JSON line per record on stderr, for our loggers and uvicorn's alike."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # our own access log replaces uvicorn's (which would print query strings)
    logging.getLogger("uvicorn.access").disabled = True
    # one line per outgoing request is noise; failures are logged by the caller
    logging.getLogger("httpx").setLevel(logging.WARNING)
