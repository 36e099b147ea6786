"""What an event's handling reads of its dossier: the columns it uses, as one row, not the ORM entity.

notify_api reads the dossier of every event it receives (whom to tell, in which language, with which code and
dates) and never changes it there. Loading the mapped ``Dossier`` — every column, the identity map, the
entity's state — cost about as much as the rest of the read (issue 14, bench/profiles/2026-12-06-sender.md);
these thirteen columns are what the texts, the recipients and the webhook deliveries use.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table

from services.models import Dossier


@dataclass(frozen=True, slots=True)
class DossierFacts:
    id: uuid.UUID
    code: str
    status: str
    received_at: datetime | None
    returned_at: datetime | None
    due_at: datetime | None
    appointment_at: datetime | None
    return_method: str
    receiving_agency_id: uuid.UUID
    current_agency_id: uuid.UUID | None
    applicant_email: str | None
    applicant_phone: str | None
    applicant_locale: str


# the dossier table's columns, in the order of the fields above (Core: no ORM compile step)
COLUMNS: tuple[Any, ...] = tuple(cast(Table, Dossier.__table__).c[field.name] for field in fields(DossierFacts))
