"""Who is told of what: for each event, the citizen's channels and the staff to notify.

- ``citizen``: the applicant, by each of these channels for which the dossier has a contact
  (email address, mobile number).
- ``complainant``: the contact left with a complaint or suggestion.
- ``staff``: in the app — ``assignee`` (the officer now holding the dossier or the late step;
  the unit when nobody is assigned), ``desk`` (the receiving agency's one-stop desk), ``agency``
  (the agency named in the event: complaints).
- ``leaders``: heads and leaders of the late unit, by email (overdue only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Channel = Literal["email", "sms", "in_app"]
CHANNELS: tuple[Channel, ...] = ("email", "sms", "in_app")
LOCALES = ("vi", "en")
StaffTarget = Literal["assignee", "desk", "agency"]


@dataclass(frozen=True)
class Rule:
    citizen: tuple[Channel, ...] = ()
    complainant: tuple[Channel, ...] = ()
    staff: StaffTarget | None = None
    leaders: bool = False
    skip_channels: tuple[int, ...] = ()  # intake channels (1 counter, 2 online, 3 post) for which nobody is told

    def channels(self) -> set[str]:
        used: set[str] = {*self.citizen, *self.complainant}
        if self.staff:
            used.add("in_app")
        if self.leaders:
            used.add("email")
        return used


_BOTH: tuple[Channel, ...] = ("email", "sms")
_EMAIL: tuple[Channel, ...] = ("email",)

RULES: dict[str, Rule] = {
    # intake
    # at the counter the dossier is received at once: its dossier.received says all there is to say
    "dossier.submitted": Rule(citizen=_EMAIL, staff="desk", skip_channels=(1,)),
    "dossier.received": Rule(citizen=_BOTH),
    "dossier.refused": Rule(citizen=_BOTH),
    "dossier.supplement_requested": Rule(citizen=_BOTH),
    "dossier.supplement_received": Rule(citizen=_EMAIL, staff="desk"),
    "dossier.withdrawn": Rule(citizen=_EMAIL, staff="desk"),
    "feedback.received": Rule(staff="desk"),
    "payment.requested": Rule(citizen=_BOTH),
    "payment.paid": Rule(citizen=_EMAIL),
    "dossier.returned": Rule(citizen=_BOTH),
    "dossier.result_added": Rule(citizen=_BOTH),  # an electronic result attached after the resolution
    # the public post's failures (the redelivery request also books a new delivery with the operator)
    "dossier.delivery_failed": Rule(citizen=_BOTH),
    "dossier.postal_returned": Rule(citizen=_BOTH, staff="desk"),
    "dossier.redelivery_requested": Rule(citizen=_EMAIL),
    "dossier.pickup_cancelled": Rule(citizen=_EMAIL, staff="desk"),
    "complaint.received": Rule(staff="agency"),
    "complaint.answered": Rule(complainant=_BOTH),
    "complaint.refused": Rule(complainant=_BOTH),
    # workflow
    "dossier.routed": Rule(staff="assignee"),
    "dossier.forwarded": Rule(staff="assignee"),
    "dossier.transferred": Rule(staff="assignee"),
    "dossier.sent_back": Rule(staff="assignee"),
    "dossier.resolved": Rule(citizen=_BOTH, staff="assignee"),
    "dossier.stopped": Rule(citizen=_BOTH),
    "dossier.apology_issued": Rule(citizen=_BOTH),
    "sla.due_soon": Rule(staff="assignee"),
    "sla.overdue": Rule(staff="assignee", leaders=True),
}

# what notify derives for its webhook subscribers (the postal operator) besides the events themselves
POSTAL_PICKUP = "postal.pickup_requested"
POSTAL_DELIVERY = "postal.delivery_requested"
OUTBOUND_ONLY = (POSTAL_PICKUP, POSTAL_DELIVERY)
