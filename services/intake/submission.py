"""Filing a dossier: online (the citizen, answered with the code and the secret) or at the counter
(received at once, its legal clock started by the receipt rules).

One request is one effect: with an ``Idempotency-Key`` the first answer is stored (the secret sealed)
and replayed to a repeat (``services.core.idempotency.once``). A counter filing is an audited change
(the officer typed the applicant's personal data). The uploaded files become the dossier's input
documents (``services.dossier.documents``). A filing without files — the citizen's usual one, and the counter's,
received as it is filed — is answered from what ``filing.file`` wrote, without loading the dossier back (issue
14: bench/profiles/2026-12-06-filing.md, bench/profiles/2026-12-06-counter.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.receipt import Channel
from services.core import idempotency
from services.core.audit import Origin
from services.core.auth import Actor
from services.core.config import Settings
from services.dossier import filing
from services.dossier.documents import attach
from services.dossier.filing import SEALED, Parsed, policy, record_filing
from services.dossier.schemas import SubmissionIn
from services.dossier.views import dossier_out, filed_out
from services.models import Dossier


async def submit(
    session: AsyncSession,
    settings: Settings,
    parsed: Parsed[SubmissionIn],
    *,
    actor: Actor | None,
    origin: Origin,
    key: str | None,
    now: datetime,
) -> idempotency.Answer:
    """File the dossier: online (``actor`` None: by post when it asks for a pickup) or at the counter."""

    async def work() -> dict[str, Any]:
        channel = Channel.COUNTER if actor else (Channel.POSTAL if parsed.data.pickup_by_post else Channel.ONLINE)
        filed = await filing.file(
            session, settings, parsed.data, channel=channel, now=now, actor=actor, source="intake",
            receipt=policy(settings) if actor else None,  # at the counter: received as it is filed
        )  # fmt: skip
        if actor is not None:
            await record_filing(session, origin, actor, filed.id)
        if not parsed.uploads:  # the usual filing: answered from what was written
            return filed_out(filed).model_dump(mode="json")
        dossier = await session.get(Dossier, filed.id)
        assert dossier is not None  # written just above, in this transaction
        rows = attach(
            session, settings, dossier, parsed.uploads, kind="input", now=now,
            staff_id=actor.staff_id if actor else None,
        )  # fmt: skip
        await session.flush()
        answer = await dossier_out(session, dossier, secret=filed.secret, rows=rows)
        return answer.model_dump(mode="json")

    return await idempotency.once(
        session, settings, route=origin.route, key=key, staff_id=actor.staff_id if actor else None,
        client_address=origin.client_ip, payload=parsed.fingerprint_source, now=now, work=work, sealed=SEALED,
    )  # fmt: skip
