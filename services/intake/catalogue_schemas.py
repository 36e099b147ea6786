"""The procedure catalogue's request and response models (``services.intake.catalogue`` serves them).

``POST /api/v1/procedures`` nests the first version's rules under ``version``; unknown fields are
refused (``StrictModel``). A version needs at least one receiving agency (nơi tiếp nhận), lists a
document once (names compared folded) and an agency once per role.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from services.core.text import fold
from services.core.validation import IsoDate, StrictModel

TimeUnit = Literal["working_days", "working_hours"]
OnlineMode = Literal["full", "partial", "none"]
DocumentForm = Literal["original", "copy", "original_or_copy", "present_original", "electronic"]
FeeKind = Literal["lệ phí", "phí", "other", "none"]
AgencyRole = Literal["receiving", "resolving", "coordinating"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
ProcedureCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


# --- input ---------------------------------------------------------------------------------------


class _Input(StrictModel):
    pass


class TimeLimitIn(_Input):
    value: int = Field(strict=True, ge=0, le=10_000, description="number of working days or working hours")
    unit: TimeUnit


class DocumentIn(_Input):
    name: Name
    form: DocumentForm = "original"
    mandatory: bool = Field(default=True, strict=True)


class FeeIn(_Input):
    kind: FeeKind
    name: Name
    amount_vnd: int | None = Field(
        default=None, strict=True, ge=0, le=10**12, description="null when the province sets it"
    )
    note: LongText | None = None


class AgencyLinkIn(_Input):
    agency_code: ShortText
    role: AgencyRole


class VersionIn(_Input):
    """The rules of one version of a procedure, in force from ``valid_from``."""

    valid_from: IsoDate
    time_limit: TimeLimitIn
    online_mode: OnlineMode
    interagency: bool = Field(default=False, strict=True)
    postal_submission: bool = Field(default=True, strict=True)
    postal_return: bool = Field(default=True, strict=True)
    cutoff_rule: bool = Field(
        default=True, strict=True, description="counter receipt after the cut-off counts from next day"
    )
    clock_restarts_on_supplement: bool = Field(default=False, strict=True)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=100)
    fees: list[FeeIn] = Field(default_factory=list, max_length=50)
    agencies: list[AgencyLinkIn] = Field(min_length=1, max_length=50)
    result_description: LongText | None = None
    legal_basis: list[Name] = Field(default_factory=list, max_length=50)

    @field_validator("documents")
    @classmethod
    def _distinct_documents(cls, documents: list[DocumentIn]) -> list[DocumentIn]:
        seen: set[str] = set()
        for document in documents:
            key = fold(document.name)
            if key in seen:
                raise ValueError(f"document {document.name!r} is listed twice")
            seen.add(key)
        return documents

    @field_validator("agencies")
    @classmethod
    def _receiving_agency(cls, agencies: list[AgencyLinkIn]) -> list[AgencyLinkIn]:
        pairs = [(link.agency_code, link.role) for link in agencies]
        if len(set(pairs)) != len(pairs):
            raise ValueError("an agency is listed twice with the same role")
        if not any(link.role == "receiving" for link in agencies):
            raise ValueError("at least one receiving agency (nơi tiếp nhận) is needed")
        return agencies


class ProcedureCreate(_Input):
    """A new procedure and its first version."""

    code: ProcedureCode = Field(description="national procedure code (mã TTHC), e.g. 1.001193")
    name: Name
    field: ShortText = Field(description="lĩnh vực")
    level: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] = Field(
        description="agency level code that resolves it (agency_level), e.g. province or commune"
    )
    version: VersionIn


class CatalogueQuery(BaseModel):
    """Search parameters of the public catalogue."""

    q: str | None = Field(default=None, max_length=200, description="words of the code, name or field; any accents")
    field: str | None = Field(default=None, max_length=200, description="exact field name (lĩnh vực)")
    agency: str | None = Field(default=None, max_length=64, description="code of an agency receiving or resolving it")
    online_mode: OnlineMode | None = None
    interagency: bool | None = None
    level: str | None = Field(default=None, max_length=32, description="agency level handling it: province, commune…")
    department: str | None = Field(
        default=None, max_length=300, description="name of a department of the national record (cơ quan thực hiện)"
    )
    information_only: bool | None = Field(
        default=None, description="true: only procedures without a local workflow; false: only those one can file"
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=1_000_000)


# --- output --------------------------------------------------------------------------------------


class TimeLimitOut(BaseModel):
    value: int = Field(description="0 with unit ``unknown``: the national record states no usable time limit")
    unit: str = Field(description="working_days, working_hours, days, hours, months or unknown")


class ProcedureSummary(BaseModel):
    code: str
    name: str
    field: str
    level: str
    agency_code: str | None = Field(description="the resolving agency, else the first receiving one")
    time_limit: TimeLimitOut
    fee_vnd: int = Field(description="sum of the known lệ phí and phí amounts")
    fee_complete: bool = Field(description="false when some lệ phí or phí amount is set by the province")
    fee_note: str | None
    online_mode: str
    interagency: bool
    postal_submission: bool
    postal_return: bool
    version: int
    valid_from: date
    valid_to: date | None
    information_only: bool = Field(description="no local workflow: shown for information, not filed online")
    levels: list[str] = Field(description="every agency level handling it (the national record may list several)")


class ProcedurePage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ProcedureSummary]


class VersionOut(BaseModel):
    version: int
    valid_from: date
    valid_to: date | None
    published: bool


class RequiredDocumentOut(BaseModel):
    code: str
    name: str
    mandatory: bool
    form: str
    template_url: str | None


class FeeOut(BaseModel):
    kind: str
    name: str
    amount_vnd: int | None
    note: str | None


class AgencyOut(BaseModel):
    code: str
    name: str
    role: str


class ShareOut(BaseModel):
    value: float
    unit: str


class StepOut(BaseModel):
    position: int
    code: str
    name: str
    role: str
    agency_code: str | None = Field(description="null: the agency that received the dossier")
    share: ShareOut


class ProcedureDetail(ProcedureSummary):
    versions: list[VersionOut]
    required_documents: list[RequiredDocumentOut]
    fees: list[FeeOut]
    agencies: list[AgencyOut]
    steps: list[StepOut]
    on_the_spot: bool = Field(
        default=False, description="4 tại chỗ: a delegated counter officer resolves and returns it in one visit"
    )
    legal_basis: list[str]
    result_description: str | None
    cutoff_rule: bool
    clock_restarts_on_supplement: bool
    information_only_reason: str | None = Field(
        description="why online submission is not offered: no_local_workflow or no_working_time_limit"
    )
    origin: str = Field(description="national: imported from the national catalogue; local: created here")
    departments: list[str] = Field(description="where to go according to the national record (cơ quan thực hiện)")
    published_by: str | None = Field(description="the authority that published the national record")
    target: list[str] = Field(description="who may ask for it (đối tượng thực hiện)")
    time_limit_note: str | None = Field(description="the time limit as the national record words it")
    details_published: bool = Field(description="false: the national record lists no documents, fees nor time limit")


class FieldCount(BaseModel):
    name: str
    count: int


class CatalogueFacets(BaseModel):
    """The choices of the public search's filters, with how many procedures in force each has."""

    total: int
    fields: list[FieldCount]
    departments: list[FieldCount]
    levels: list[FieldCount]


class PublicAgency(BaseModel):
    """An agency as the public sees it: the complaint form, the search filter, and where the desk is.

    ``street_address`` and ``postal_hours`` are the desk's own (where the postman collects and
    delivers, and when it receives him: services.intake.postal), public by nature; null when unset."""

    code: str
    name: str
    level: str
    one_stop_desk: bool
    street_address: str | None = Field(description="the desk's street address; null when not set")
    postal_hours: str | None = Field(description="when the desk receives the postman, as written; null when not set")
