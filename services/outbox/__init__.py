"""Transactional outbox: events written with the change that causes them, relayed over HTTP after commit."""

from services.outbox.events import EventEnvelope, emit
from services.outbox.inbox import accept_once

__all__ = ["EventEnvelope", "accept_once", "emit"]
