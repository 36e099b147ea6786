"""Public tracking of a dossier: the full view for the holder of the secret, the brief one for the phone.

Neither shows the applicant's personal data. The phone alone proves little (a neighbour may know it),
so its view has no procedure, note, history or tracking number. Both say whether the appointment the
citizen holds has passed by the one rule ``services.domain.rules.appointment_passed``.

The hottest public read (every citizen's refresh), so it is one statement on one connection (issue 14):
the proof (``services.intake.citizen.prove``: the attempt counted unless the secret matches) and the
whole view (``_VIEW``: the dossier with its procedure, desk, running pause, public history and the
post's shipments), read in the same snapshot, straight through asyncpg. It was nine ORM round trips,
two transactions and two pooled connections one after the other; ``bench/profiles/`` has the before
and after.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from pydantic import ConfigDict, Field

from services.core.validation import StrictModel
from services.domain.rules import appointment_passed
from services.domain.vocabulary import STATUS_LABELS_VI
from services.dossier.eresult import public_name
from services.dossier.notes import note_of
from services.dossier.views import held_appointment, state_fields
from services.intake.citizen import Proof, Reader
from services.intake.schemas import HistoryItem, ResultOut, ShipmentOut, TrackingBriefOut, TrackingOut

PAUSE_REASONS = {
    "awaiting_supplement": "Chờ công dân bổ sung hồ sơ",
    "awaiting_payment": "Chờ thực hiện nghĩa vụ tài chính",
}

# read in the proof's statement (``Citizen.read``), for the proven dossier ``f.id``. The dossier's clock is
# paused when its dossier timer has ``paused_at``; the public history is the
# hand-over lines with a public note, in the order they were recorded; shipments oldest first (the
# dossier's pickup before the result's delivery); the electronic result files by the rule of
# ``services.dossier.eresult.downloadable`` (online return, resolved or returned), in its order
_VIEW = """
SELECT d.code, d.status, d.received_at, d.due_at, d.appointment_at, d.return_method,
       p.name AS procedure_name, a.name AS agency_name, a.street_address AS agency_address,
       (SELECT t.paused_at FROM sla_timer t
         WHERE t.dossier_id = d.id AND t.kind = 'dossier' AND t.paused_at IS NOT NULL LIMIT 1) AS paused_since,
       ARRAY(SELECT ROW(h.at, h.status_after, h.public_note, h.note_code, h.note_params) FROM handover h
              WHERE h.dossier_id = d.id AND h.public_note IS NOT NULL ORDER BY h.at, h.seq) AS history,
       ARRAY(SELECT ROW(s.direction, s.tracking_number, s.status, s.failed_attempts, s.failure_code,
                        s.redelivery_at, s.updated_at)
               FROM postal_shipment s WHERE s.dossier_id = d.id
              ORDER BY s.created_at, s.direction, s.id) AS shipments,
       ARRAY(SELECT ROW(r.id, r.content_type, r.size_bytes) FROM document r
              WHERE r.dossier_id = d.id AND r.kind = 'result' AND d.return_method = 'online'
                AND d.status IN ('resolved', 'returned')
              ORDER BY r.created_at, r.id) AS results
  FROM dossier d
  JOIN procedure_version v ON v.id = d.procedure_version_id
  JOIN procedure p ON p.id = v.procedure_id
  JOIN agency a ON a.id = d.receiving_agency_id
 WHERE d.id = f.id
"""


class TrackByPhoneIn(StrictModel):
    model_config = ConfigDict(strict=True)

    code: str = Field(min_length=1, max_length=64, description="the dossier code on the receipt")
    phone: str = Field(min_length=9, max_length=20, description="the applicant's phone number")


def _state(row: asyncpg.Record, now: datetime) -> dict[str, object]:
    """The fields both views share: the state as every answer shows it, the appointment the citizen holds
    (the apology's when one moved it), whether it passed, and the pause."""
    status = row["status"]
    return {
        **state_fields(row["code"], status),
        "due_at": held_appointment(row["appointment_at"], row["due_at"]),
        "overdue": appointment_passed(
            status=status,
            appointment_at=row["appointment_at"],
            due_at=row["due_at"],
            paused_since=row["paused_since"],
            now=now,
        ),
    }


def _history_item(line: asyncpg.Record) -> HistoryItem:
    at, status, note, note_code, note_params = line
    code, params = note_of(note_code, note_params, note)
    return HistoryItem(
        at=at, status=status, status_label=STATUS_LABELS_VI[status], note=note, note_code=code, note_params=params
    )


def _shipment(line: asyncpg.Record) -> ShipmentOut:
    direction, tracking_number, status, failed_attempts, failure_code, redelivery_at, updated_at = line
    return ShipmentOut(
        direction=direction, tracking_number=tracking_number, status=status, failed_attempts=failed_attempts,
        failure_code=failure_code, redelivery_at=redelivery_at, updated_at=updated_at,
    )  # fmt: skip


async def brief(citizen: Reader, body: TrackByPhoneIn) -> TrackingBriefOut:
    """The state and the due time, for the applicant's phone number."""
    row = await citizen.read(body.code, Proof(phone=body.phone), _VIEW)
    return TrackingBriefOut(**_state(row, citizen.now), paused=row["paused_since"] is not None)


async def full(citizen: Reader, code: str, secret: str) -> TrackingOut:
    """Where the dossier is: state, due time, pauses, the public history and the post's shipments."""
    row = await citizen.read(code, Proof(secret=secret), _VIEW)
    return view_out(row, citizen.now)


# the same view for a signed-in citizen's own dossier (services.intake.accounts): ``f`` is the dossier
# of the code ($1) filed in the citizen's CCCD number ($2, services.dossier.ownership), no secret asked
OWNED_VIEW = f"""
SELECT r.* FROM (SELECT id FROM dossier WHERE code = $1 AND applicant_id_number = $2) f,
LATERAL ({_VIEW}) r
"""


def view_out(row: asyncpg.Record, now: datetime) -> TrackingOut:
    """The full tracking view from its row (``_VIEW``)."""
    paused_since = row["paused_since"]
    return TrackingOut(
        **_state(row, now),
        procedure_name=row["procedure_name"],
        agency_name=row["agency_name"],
        agency_address=row["agency_address"],
        received_at=row["received_at"],
        paused_since=paused_since,
        paused_reason=PAUSE_REASONS.get(row["status"], "Tạm dừng") if paused_since is not None else None,
        history=[_history_item(line) for line in row["history"]],
        shipments=[_shipment(line) for line in row["shipments"]],
        return_method=row["return_method"],
        results=[
            ResultOut(
                id=str(document_id),
                filename=public_name(row["code"], number, content_type),
                content_type=content_type,
                size_bytes=size,
            )
            for number, (document_id, content_type, size) in enumerate(row["results"], start=1)
        ],
    )
