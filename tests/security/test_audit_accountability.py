"""Issue 11, point 12: every printed form and export that holds personal data, and every denial, is in the
audit log; the record book (form 07) is for the desk's heads and leaders."""

from __future__ import annotations

from sqlalchemy import select

from services.models import AuditLog, Dossier
from tests.security.world import World


async def _entries(world: World, actor: str, action: str | None = None) -> list[AuditLog]:
    query = select(AuditLog).where(AuditLog.actor_staff_id == world.staff[actor].id).order_by(AuditLog.at)
    if action is not None:
        query = query.where(AuditLog.action == action)
    return list((await world.session.scalars(query.execution_options(populate_existing=True))).all())


async def _dossier_id(world: World, code: str) -> object:
    return await world.session.scalar(select(Dossier.id).where(Dossier.code == code))


async def test_a_denial_on_a_long_path_is_audited_cut_to_fit(world: World) -> None:
    path = f"/api/v1/outbox/{'x' * 250}/requeue"
    answer = await world.call("workflow", "POST", path, actor="counter@desk", json={}, keep=True)
    assert answer.status_code == 403
    (entry,) = await _entries(world, "counter@desk", "denied")
    assert entry.resource == f"POST {path}"[:200]
    assert entry.detail == {"reason": "role_required"}


async def test_denials_on_a_dossier_are_audited_with_the_dossier(world: World) -> None:
    code = world.codes["processing"]
    refused = await world.call("intake", "POST", f"/api/v1/dossiers/{code}/payments", actor="counter@desk",
                               json={"amount_vnd": 1_000, "description": "Phí tùy ý"}, keep=True)  # fmt: skip
    assert refused.status_code == 403
    hidden = await world.call("workflow", "GET", f"/api/v1/dossiers/{code}", actor="specialist@elsewhere", keep=True)
    assert hidden.status_code == 404
    (payment,) = await _entries(world, "counter@desk", "denied")
    assert (payment.dossier_id, payment.detail) == (await _dossier_id(world, code), {"reason": "action_forbidden"})
    assert payment.resource == f"POST /api/v1/dossiers/{code}/payments"
    (probe,) = await _entries(world, "specialist@elsewhere", "denied")
    assert (probe.resource, probe.detail) == (f"GET /api/v1/dossiers/{code}", {"reason": "dossier_not_found"})


async def test_the_record_book_is_for_heads_and_leaders(world: World) -> None:
    period = {"from": "2026-01-01", "to": "2026-12-31"}
    for actor in ("specialist@desk", "counter@desk", "inspector@desk"):
        denied = await world.call("intake", "GET", "/api/v1/record-book.pdf", actor=actor, params=period, keep=True)
        assert denied.status_code == 403, actor
        assert [entry.action for entry in await _entries(world, actor)] == ["denied"]
    for actor in ("head@desk", "leader@desk"):
        book = await world.call("intake", "GET", "/api/v1/record-book.pdf", actor=actor, params=period, keep=True)
        assert (book.status_code, book.headers["content-type"]) == (200, "application/pdf"), actor
        (entry,) = await _entries(world, actor, "export")
        assert entry.detail == {
            "form": "07", "agency_code": world.agencies["desk"].code, "from": "2026-01-01", "to": "2026-12-31"
        }  # fmt: skip


async def test_every_printed_form_and_export_is_audited(world: World) -> None:
    counter, head = "counter@desk", "head@unit"
    applicant = {"full_name": "Trần Thị Bình", "id_number": "031190004567", "phone": "0912 345 678"}
    created = await world.call("intake", "POST", "/api/v1/counter/dossiers", actor=counter, keep=True,
                               json={"procedure_code": world.procedure_code, "applicant": applicant,
                                     "return_method": "counter"})  # fmt: skip
    fresh, secret = created.json()["code"], created.json()["secret"]
    items = [{"document": "Tờ khai", "reason": "Thiếu chữ ký"}]
    asked = await world.call("intake", "POST", f"/api/v1/dossiers/{fresh}/supplement-requests", actor=counter,
                             json={"items": items}, keep=True)  # fmt: skip
    assert asked.status_code == 200, asked.text
    online = world.codes["submitted"]
    refused = await world.call("intake", "POST", f"/api/v1/dossiers/{online}/refuse", actor=counter,
                               json={"reasons": ["Không thuộc thẩm quyền"]}, keep=True)  # fmt: skip
    assert refused.status_code == 200, refused.text
    processing, approval = world.codes["processing"], world.codes["approval"]
    apology = {"action": "apologize", "reason": "Chậm do phải xác minh thêm",
               "new_appointment": "2030-01-08T09:00:00+07:00"}  # fmt: skip
    said = await world.call("workflow", "POST", f"/api/v1/dossiers/{processing}/transitions", actor=counter,
                            json=apology, keep=True)  # fmt: skip
    assert said.status_code == 200, said.text
    stopped = await world.call("workflow", "POST", f"/api/v1/dossiers/{approval}/transitions", actor=head,
                               json={"action": "stop", "reasons": ["Hồ sơ giả mạo"]}, keep=True)  # fmt: skip
    assert stopped.status_code == 200, stopped.text

    prints = [
        ("intake", "POST", f"/api/v1/dossiers/{fresh}/forms/receipt.pdf", counter, fresh, "01", {"secret": secret}),
        ("intake", "GET", f"/api/v1/dossiers/{fresh}/forms/supplement.pdf", counter, fresh, "02", None),
        ("intake", "GET", f"/api/v1/dossiers/{online}/forms/refusal.pdf", counter, online, "03", None),
        ("workflow", "GET", f"/api/v1/dossiers/{processing}/forms/apology.pdf", counter, processing, "04", None),
        ("workflow", "GET", f"/api/v1/dossiers/{approval}/forms/stop.pdf", head, approval, "05", None),
        ("workflow", "GET", f"/api/v1/dossiers/{processing}/forms/control-sheet.pdf", head, processing, "06", None),
    ]
    for service, method, path, actor, code, form, body in prints:
        printed = await world.call(service, method, path, actor=actor, json=body, keep=True)
        assert (printed.status_code, printed.headers["content-type"]) == (200, "application/pdf"), path
        reads = [e for e in await _entries(world, actor, "read") if e.resource == f"{method} {path}"]
        assert [(e.dossier_id, e.detail) for e in reads] == [(await _dossier_id(world, code), {"form": form})], path

    period = {"from": "2026-01-01", "to": "2026-12-31"}
    for path, kind in (("/api/v1/stats/export.xlsx", "spreadsheet"), ("/api/v1/stats/export.csv", "text/csv")):
        export = await world.call("workflow", "GET", path, actor="leader@desk", params=period, keep=True)
        assert export.status_code == 200, path
        assert kind in export.headers["content-type"], path
    exports = await _entries(world, "leader@desk", "export")
    assert [e.resource for e in exports] == ["GET /api/v1/stats/export.xlsx", "GET /api/v1/stats/export.csv"]
    assert exports[0].detail["from"] == "2026-01-01"
