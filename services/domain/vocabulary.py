"""The dossier's states (DVCQG ``TrangThaiHoSo``) and the staff roles, with the sets the rules use.

A state belongs to exactly one *phase*; the sets the code asks about are unions of phases:

- ``BEFORE_RECEIPT`` — submitted online or by post, not yet received at the counter;
- ``RUNNING`` — received and being processed: the legal clock runs;
- ``PAUSED`` — waiting for the citizen (a supplement, a payment): the clock is stopped;
- ``TO_RETURN`` — resolved, the result waits to be handed over;
- ``FINAL`` — nothing more happens (refused, withdrawn, stopped, returned).

``OPEN`` (received and not yet resolved: what counts as pending and can be overdue) is RUNNING | PAUSED;
``NOT_CLOSED`` (what a citizen may still withdraw) adds the dossiers before receipt.

The labels are the ones the citizen reads when tracking and in notifications (the SPA keeps its own
wording in its i18n catalogues, keyed by the same codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    BEFORE_RECEIPT = "before_receipt"
    RUNNING = "running"
    PAUSED = "paused"
    TO_RETURN = "to_return"
    FINAL = "final"


@dataclass(frozen=True)
class _Facts:
    code: int
    label_vi: str
    label_en: str
    phase: Phase


class DossierStatus(StrEnum):
    """A dossier's state (DVCQG TrangThaiHoSo; its national number is the response's ``status_code``)."""

    # declared in the order of the national code: ``in_order`` and the SQL text rely on it
    SUBMITTED = "submitted"
    RECEIVED = "received"
    REFUSED = "refused"
    PROCESSING = "processing"
    AWAITING_SUPPLEMENT = "awaiting_supplement"
    AWAITING_PAYMENT = "awaiting_payment"
    WITHDRAWN = "withdrawn"
    STOPPED = "stopped"
    RESOLVED = "resolved"
    RETURNED = "returned"

    @property
    def code(self) -> int:
        """The national code (DVCQG TrangThaiHoSo)."""
        return _FACTS[self].code

    @property
    def label_vi(self) -> str:
        return _FACTS[self].label_vi

    @property
    def label_en(self) -> str:
        return _FACTS[self].label_en

    @property
    def phase(self) -> Phase:
        return _FACTS[self].phase

    def label(self, locale: str) -> str:
        """The label in ``locale`` (``vi`` or ``en``; anything else reads Vietnamese)."""
        return self.label_en if locale == "en" else self.label_vi


S = DossierStatus
_FACTS: dict[DossierStatus, _Facts] = {
    S.SUBMITTED: _Facts(1, "Mới đăng ký", "Submitted", Phase.BEFORE_RECEIPT),
    S.RECEIVED: _Facts(2, "Được tiếp nhận", "Received", Phase.RUNNING),
    S.REFUSED: _Facts(3, "Không được tiếp nhận", "Refused", Phase.FINAL),
    S.PROCESSING: _Facts(4, "Đang xử lý", "Processing", Phase.RUNNING),
    S.AWAITING_SUPPLEMENT: _Facts(5, "Yêu cầu bổ sung giấy tờ", "Awaiting supplement", Phase.PAUSED),
    S.AWAITING_PAYMENT: _Facts(6, "Yêu cầu thực hiện nghĩa vụ tài chính", "Awaiting payment", Phase.PAUSED),
    S.WITHDRAWN: _Facts(7, "Công dân yêu cầu rút hồ sơ", "Withdrawn", Phase.FINAL),
    S.STOPPED: _Facts(8, "Dừng xử lý", "Stopped", Phase.FINAL),
    S.RESOLVED: _Facts(9, "Đã xử lý xong", "Resolved", Phase.TO_RETURN),
    S.RETURNED: _Facts(10, "Đã trả kết quả", "Returned", Phase.FINAL),
}


def _in(*phases: Phase) -> frozenset[DossierStatus]:
    return frozenset(status for status in DossierStatus if status.phase in phases)


def in_order(states: frozenset[DossierStatus]) -> tuple[DossierStatus, ...]:
    """``states`` in the order of their code: for SQL written out as text (stable, so no migration drift)."""
    return tuple(status for status in DossierStatus if status in states)


BEFORE_RECEIPT = _in(Phase.BEFORE_RECEIPT)
RUNNING = _in(Phase.RUNNING)
PAUSED = _in(Phase.PAUSED)
OPEN = RUNNING | PAUSED
FINAL = _in(Phase.FINAL)
NOT_CLOSED = BEFORE_RECEIPT | OPEN
# before receipt, or sent back for a supplement before it: what a counter may still refuse or add input to
AWAITING_RECEIPT = frozenset({S.SUBMITTED, S.AWAITING_SUPPLEMENT})

STATUS_CODES: dict[str, int] = {status.value: status.code for status in DossierStatus}
STATUS_LABELS_VI: dict[str, str] = {status.value: status.label_vi for status in DossierStatus}
STATUS_LABELS_EN: dict[str, str] = {status.value: status.label_en for status in DossierStatus}


def open_states_sql(column: str = "status") -> str:
    """``<column> IN ('received', …)`` as literal text: the planner must see the values to use the partial
    index on open dossiers (bound parameters would hide them), and the index's own predicate is this text."""
    return f"{column} IN ({', '.join(repr(status.value) for status in in_order(OPEN))})"


class RoleCode(StrEnum):
    """The staff roles (``role.code``); a staff member holds one or more."""

    ADMIN = "admin"
    COUNTER = "counter"  # cán bộ một cửa: receives dossiers and returns results
    SPECIALIST = "specialist"  # chuyên viên: processes the steps
    HEAD = "head"  # lãnh đạo phòng: approves
    LEADER = "leader"  # lãnh đạo cơ quan: oversees the agency
    INSPECTOR = "inspector"  # thanh tra: reads everything, acts on nothing
    ON_THE_SPOT = "on_the_spot"  # a delegation added to counter: resolves "4 tại chỗ" procedures itself


R = RoleCode
# every staff role that may read a dossier and the shared references (calendar, templates, directory)
STAFF_ROLES = frozenset({R.ADMIN, R.COUNTER, R.SPECIALIST, R.HEAD, R.LEADER, R.INSPECTOR})
# staff who act on dossiers: everyone but the inspector
ACTING_ROLES = STAFF_ROLES - {R.INSPECTOR}
# the counter's own work (receipt, the desk), which an administrator may also do
COUNTER_ROLES = frozenset({R.COUNTER, R.ADMIN})
# the agency's management: heads of department and the agency leader
LEADER_ROLES = frozenset({R.HEAD, R.LEADER})
# management and the administrator: the agency-wide lists and registers
MANAGER_ROLES = LEADER_ROLES | {R.ADMIN}
# who see every agency, not only their own
SEE_ALL_ROLES = frozenset({R.ADMIN, R.INSPECTOR})
# who read the indicators and the overdue list
STATS_ROLES = LEADER_ROLES | SEE_ALL_ROLES
# who request and record a dossier's payments
PAYMENT_ROLES = frozenset({R.COUNTER, R.SPECIALIST, R.HEAD, R.ADMIN})
# who answer the citizens' complaints and suggestions
COMPLAINT_ROLES = MANAGER_ROLES | {R.COUNTER}
# who may resend a failed notification
RESEND_ROLES = COUNTER_ROLES
