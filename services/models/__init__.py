"""Every table of the shared schema; importing this module registers them all on ``Base.metadata``."""

from services.models.agency import Agency, AgencyLevel
from services.models.audit import AuditLog
from services.models.base import Base
from services.models.calendar import CalendarOverride, CalendarRevision, WorkingCalendar
from services.models.citizen import CitizenAccount
from services.models.dossier import (
    Document,
    Dossier,
    DossierSequence,
    Handover,
    Payment,
    PostalShipment,
)
from services.models.feedback import Complaint, Feedback
from services.models.idempotency import IdempotencyKey
from services.models.notification import Notification, NotificationTemplate
from services.models.outbox import OutboxEvent, ProcessedEvent
from services.models.portal import PortalSync
from services.models.procedure import (
    Procedure,
    ProcedureAgency,
    ProcedureDocument,
    ProcedureFee,
    ProcedureVersion,
)
from services.models.ratelimit import RateLimitHit
from services.models.signature import SignedDocument, SigningKey
from services.models.sla import SlaPause, SlaTimer
from services.models.staff import Role, Staff, StaffRole
from services.models.stats import StatsDossierCell, StatsOfficerCell, StatsStepCell
from services.models.stats_rollups import (
    StatsDossierAgencyMonth,
    StatsDossierYear,
    StatsOpenCell,
    StatsOpenStepCell,
    StatsStepYear,
)
from services.models.webhook import WebhookReceipt, WebhookSubscription
from services.models.workflow import WorkflowStep, WorkflowTemplate

__all__ = [
    "Agency",
    "AgencyLevel",
    "AuditLog",
    "Base",
    "CalendarOverride",
    "CalendarRevision",
    "CitizenAccount",
    "Complaint",
    "Document",
    "Dossier",
    "DossierSequence",
    "Feedback",
    "Handover",
    "IdempotencyKey",
    "Notification",
    "NotificationTemplate",
    "OutboxEvent",
    "Payment",
    "PortalSync",
    "PostalShipment",
    "Procedure",
    "ProcedureAgency",
    "ProcedureDocument",
    "ProcedureFee",
    "ProcedureVersion",
    "ProcessedEvent",
    "RateLimitHit",
    "Role",
    "SignedDocument",
    "SigningKey",
    "SlaPause",
    "SlaTimer",
    "Staff",
    "StaffRole",
    "StatsDossierAgencyMonth",
    "StatsDossierCell",
    "StatsDossierYear",
    "StatsOfficerCell",
    "StatsOpenCell",
    "StatsOpenStepCell",
    "StatsStepCell",
    "StatsStepYear",
    "WebhookReceipt",
    "WebhookSubscription",
    "WorkflowStep",
    "WorkflowTemplate",
    "WorkingCalendar",
]
