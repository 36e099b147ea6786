"""In English mode the dossier's history is in English: statuses, actions, step names and the system's
notes (sent by the API as codes with params), while what an officer typed stays as typed.

The expected words are read from the catalogues (frontend/src/i18n/{vi,en}/*.json) and the demo seed's
English step names, so the test checks that the pages show them, not a particular wording."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import Page, expect

from services.demo.procedures import STEP_NAMES_EN
from tests.browser.conftest import BrowserStack, axe_check, new_page, screenshot, sign_in
from tests.browser.test_i18n import text
from tests.browser.test_staff_forms import BIRTH, routed, ward_dossier

# system sentences in Vietnamese that must not show in English mode
VIETNAMESE_NOTES = (
    "Hồ sơ được nộp tại Bộ phận một cửa",
    "Hồ sơ được tiếp nhận",
    "Hẹn trả kết quả",
    "Hồ sơ được chuyển đến bộ phận giải quyết",
    "mời nhận kết quả",
)
TYPED = "Đủ điều kiện, trình lãnh đạo ký."  # the specialist's own words: shown as typed in both languages
DATE = re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}")


def transition(stack: BrowserStack, code: str, username: str, **body: Any) -> None:
    answer = httpx.post(
        stack.url("workflow") + f"/api/v1/dossiers/{code}/transitions",
        json=body,
        headers={"Authorization": f"Bearer {stack.token(username)}"},
    )
    assert answer.status_code == 200, answer.text


async def test_timeline_and_tracking_page_speak_english_in_english_mode(page: Page, stack: BrowserStack) -> None:
    created = ward_dossier(stack, BIRTH, "Lê Thị Hoa")
    code, secret = created["code"], created["secret"]
    await routed(stack, code)

    # the staff page in English: the current step by its English name
    await sign_in(page, "chuyenvien.xa")
    await page.goto(f"/can-bo/ho-so/{code}")
    await expect(page.get_by_test_id("current-step")).to_contain_text("Thẩm định, xử lý hồ sơ")
    await page.get_by_test_id("language").select_option("en")
    await expect(page.get_by_test_id("current-step")).to_have_text(f"2. {STEP_NAMES_EN['Thẩm định, xử lý hồ sơ']}")
    await expect(page.get_by_test_id("status")).to_have_text(text("en", "staff", "status.processing"))

    transition(stack, code, "chuyenvien.xa", action="forward", comment=TYPED)
    transition(stack, code, "lanhdao.xa", action="resolve", result_note="Đã ký giấy khai sinh.")
    await page.reload()
    timeline = page.get_by_test_id("timeline")
    for key in ("submit", "receive", "route", "forward", "resolve"):
        await expect(timeline).to_contain_text(text("en", "staff", f"timeline.actions.{key}"))
    for status in ("received", "processing", "resolved"):
        await expect(timeline).to_contain_text(text("en", "staff", f"status.{status}"))
    await expect(timeline).to_contain_text(STEP_NAMES_EN["Phê duyệt, ký kết quả"])
    await expect(timeline).to_contain_text(text("en", "common", "notes.submitted_at_desk"))
    await expect(timeline).to_contain_text(text("en", "common", "notes.routed"))
    received = text("en", "common", "notes.received").split("{{")[0]
    await expect(timeline.get_by_test_id("note").filter(has_text=received)).to_have_text(DATE)
    await expect(timeline).to_contain_text(TYPED)
    sheet = await timeline.inner_text()
    for vietnamese in (*VIETNAMESE_NOTES, text("vi", "staff", "timeline.actions.forward")):
        assert vietnamese not in sheet, f"{vietnamese!r} on the staff timeline in English mode"
    await axe_check(page, "staff timeline in English")
    await screenshot(page, "i18n-notes-staff-en")

    # the citizen's tracking page in English
    citizen = await new_page(page.context.browser, stack)  # type: ignore[arg-type]
    try:
        await citizen.goto("/tra-cuu")
        await citizen.get_by_label(text("vi", "citizen", "track.code")).fill(code)
        await citizen.get_by_label(text("vi", "citizen", "track.secret")).fill(secret)
        await citizen.get_by_role("button", name=text("vi", "citizen", "track.submit")).click()
        history = citizen.get_by_test_id("timeline")
        await expect(history).to_contain_text("Hẹn trả kết quả")  # Vietnamese by default

        await citizen.get_by_test_id("language").select_option("en")
        await expect(citizen.get_by_test_id("status-label")).to_have_text(text("en", "citizen", "status.resolved"))
        for key in ("submitted_at_desk", "routed", "resolved"):
            await expect(history).to_contain_text(text("en", "common", f"notes.{key}"))
        await expect(history.get_by_test_id("note").filter(has_text=received)).to_have_text(DATE)
        await expect(history).to_contain_text(text("en", "citizen", "timeline.resolved"))
        shown = await history.inner_text()
        for vietnamese in (*VIETNAMESE_NOTES, text("vi", "citizen", "timeline.processing")):
            assert vietnamese not in shown, f"{vietnamese!r} on the tracking page in English mode"
        await axe_check(citizen, "tracking in English")
        await screenshot(citizen, "i18n-notes-tracking-en")
    finally:
        await citizen.context.close()
