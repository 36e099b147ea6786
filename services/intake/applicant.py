"""What the applicant does with the secret printed on the receipt: answer a supplement request (the
clock resumes), withdraw the dossier, download an electronic result (the first download returns the
dossier: ``services.dossier.eresult``), rate the service once the result is returned.

Each proves the ownership first (``services.intake.citizen``: limited guessing, on a connection of its
own) and locks the dossier's row for the change.
"""

from __future__ import annotations

from services.core.audit import Origin
from services.dossier import eresult, lifecycle
from services.dossier.documents import Upload, attach
from services.dossier.filing import policy
from services.dossier.schemas import DossierOut
from services.dossier.views import dossier_out
from services.intake import dossiers as intake
from services.intake.citizen import Citizen
from services.intake.schemas import FeedbackIn, ResultDownloadIn, WithdrawIn


async def supplement(citizen: Citizen, code: str, secret: str, uploads: list[Upload]) -> DossierOut:
    """The answer to a supplement request: the files are attached and the dossier goes back where it was."""
    dossier = await citizen.dossier(code, secret, lock=True)
    session, settings = citizen.session, citizen.settings
    attach(session, settings, dossier, uploads, kind="supplement", now=citizen.now)
    await lifecycle.answer_supplement(
        session, dossier, now=citizen.now, policy=policy(settings), note=None, files=len(uploads), source="intake"
    )
    return await dossier_out(session, dossier)


async def withdraw(citizen: Citizen, code: str, body: WithdrawIn) -> DossierOut:
    """The applicant withdraws the dossier (from any open state)."""
    dossier = await citizen.dossier(code, body.secret, lock=True)
    await lifecycle.withdraw(citizen.session, dossier, now=citizen.now, reason=body.reason, source="intake")
    return await dossier_out(citizen.session, dossier)


async def download_result(citizen: Citizen, code: str, body: ResultDownloadIn, *, origin: Origin) -> eresult.ResultFile:
    """An electronic result file for the holder of the secret; the first download returns the dossier."""
    dossier = await citizen.dossier(code, body.secret, lock=True)
    return await eresult.deliver(
        citizen.session, citizen.settings, dossier, body.document_id, now=citizen.now, origin=origin, source="intake"
    )


async def rate(citizen: Citizen, code: str, body: FeedbackIn) -> dict[str, str]:
    """The applicant's rating of the service, once, after the result is returned."""
    dossier = await citizen.dossier(code, body.secret, lock=True)
    await intake.give_feedback(citizen.session, dossier, rating=body.rating, comment=body.comment, now=citizen.now)
    return {"code": dossier.code, "rating": body.rating}
