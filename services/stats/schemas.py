"""The response models of the statistics API: indicators, their breakdowns, step counts, the overdue list.

The formulas behind each field are in the package's docstring (``services.stats``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from services.domain.vocabulary import DossierStatus


class Indicators(BaseModel):
    received: int = 0
    resolved_early: int = 0
    resolved_on_time: int = 0
    resolved_late: int = 0
    pending_on_time: int = 0
    pending_overdue: int = 0
    refused: int = 0
    withdrawn: int = 0
    stopped: int = 0
    on_time_rate: float | None = None
    overdue_rate: float | None = None
    average_resolution_days: float | None = None
    online_rate: float | None = None
    online_payment_rate: float | None = None
    digitised_rate: float | None = None
    complaint_rate: float | None = None
    satisfaction_rate: float | None = None
    measured: int = Field(0, description="resolved dossiers whose clock measured the working time used")
    average_working_days: float | None = Field(
        None, description="mean working time used, in working days of 8 h, pauses excluded"
    )
    average_limit_days: float | None = Field(None, description="mean legal limit of the same dossiers, working days")
    time_used_percent: float | None = Field(None, description="mean of 100 × time used / legal limit")
    time_used_median_percent: float | None = Field(
        None, description="median of 100 × time used / legal limit (exact up to 20,000 dossiers, else interpolated)"
    )
    under_half_limit_rate: float | None = Field(None, description="% resolved in under half their legal limit")
    time_saved_percent: float | None = Field(None, description="100 × (1 − Σ time used / Σ legal limits)")


class MonthIndicators(Indicators):
    month: str


class ProcedureIndicators(Indicators):
    procedure_code: str
    procedure_name: str
    field: str
    level: str


class LevelIndicators(Indicators):
    """The procedures one level of government resolves (Procedure.level): the "time saved" table."""

    level: str
    level_name_vi: str
    level_name_en: str


class FieldIndicators(Indicators):
    field: str


class AgencyIndicators(Indicators):
    agency_code: str
    agency_name: str


class StepCounts(BaseModel):
    steps: int = 0
    steps_early: int = 0
    steps_on_time: int = 0
    steps_late: int = 0
    steps_open_on_time: int = 0
    steps_open_overdue: int = 0
    on_time_rate: float | None = None


class UnitStats(StepCounts):
    agency_id: uuid.UUID
    agency_code: str
    agency_name: str


class OfficerStats(StepCounts):
    staff_id: uuid.UUID | None
    username: str | None
    full_name: str | None


class Stats(Indicators):
    date_from: date
    date_to: date
    as_of: datetime
    agency: str | None
    include_children: bool
    field: str | None
    procedure: str | None
    officer: str | None
    steps: StepCounts
    by_unit: list[UnitStats]
    by_officer: list[OfficerStats]
    by_month: list[MonthIndicators]
    by_procedure: list[ProcedureIndicators]
    by_agency: list[AgencyIndicators]
    by_level: list[LevelIndicators]
    by_field: list[FieldIndicators]


class OverdueDossier(BaseModel):
    code: str
    status: DossierStatus
    status_code: int
    procedure_code: str
    procedure_name: str
    receiving_agency_code: str
    received_at: datetime | None
    due_at: datetime | None
    appointment_at: datetime | None
    late_by_rule: bool
    late_by_seconds: int
    late_by_days: float
    responsible_unit_code: str | None
    responsible_unit_name: str | None
    assignee: str | None
    step_position: int | None
    step_due_at: datetime | None


class OverdueList(BaseModel):
    as_of: datetime
    total: int
    items: list[OverdueDossier]
