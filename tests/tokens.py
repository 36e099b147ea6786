"""The one token helper: the ``Authorization`` header a test sends as a member of staff.

``bearer_for(settings, staff)`` signs for the account with its own roles; ``roles`` narrows or changes
them (the account must exist: a token of an unknown account is refused as revoked). Without ``staff``
the token is the test administrator's (tests/db.py creates that account once per run), with the roles
asked for — administrator by default. A test that is about tokens themselves (expired, foreign secret,
forged claims) calls ``services.core.auth.issue_token`` directly.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.core.auth import issue_token
from services.core.config import Settings
from services.models import Staff
from tests.db import TEST_ADMIN_ID


def bearer_for(
    settings: Settings,
    staff: Staff | None = None,
    roles: Sequence[str] | None = None,
    *,
    agency_code: str | None = None,
    token_version: int = 0,
) -> dict[str, str]:
    if staff is None:
        subject, username, agency_id = TEST_ADMIN_ID, "admin.test", None
        granted = list(roles) if roles is not None else ["admin"]
    else:
        subject, username, agency_id = str(staff.id), staff.username, staff.agency_id
        granted = list(roles) if roles is not None else [role.role_code for role in staff.roles]
    token, _ = issue_token(
        settings,
        subject=subject,
        username=username,
        roles=granted,
        agency_id=agency_id,
        agency_code=agency_code,
        token_version=token_version,
    )
    return {"Authorization": f"Bearer {token}"}
