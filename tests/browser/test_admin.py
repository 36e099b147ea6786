"""The administration pages in a real browser: the calendar, notification templates, staff accounts,
agencies, procedures and their workflow templates."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import BrowserStack, axe_check, screenshot, sign_in

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def next_year_weekday(stack: BrowserStack) -> date:
    """A Wednesday of next year that the demo calendar keeps as a working day (free for a new closure)."""
    year = datetime.now(VN).year + 1
    days = httpx.get(stack.url("workflow") + "/api/v1/calendar/days", params={"year": year}).json()
    taken = {d["day"] for d in days}
    for month in range(3, 13):
        for day in range(1, 29):
            candidate = date(year, month, day)
            if candidate.weekday() == 2 and candidate.isoformat() not in taken:
                return candidate
    raise AssertionError("no free weekday")


async def test_admin_home_lists_the_sections(page: Page) -> None:
    await sign_in(page, "admin")
    await page.goto("/quan-tri")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Quản trị hệ thống")
    nav = page.get_by_role("navigation", name="Mục quản trị")
    for name in ("Cơ quan, đơn vị", "Cán bộ và vai trò", "Thủ tục và quy trình", "Lịch làm việc", "Mẫu thông báo"):
        await expect(nav.get_by_role("link", name=name)).to_be_visible()
    await axe_check(page, "admin-home")
    await screenshot(page, "admin-home")


async def test_an_admin_adds_a_holiday_and_sees_it_on_the_calendar_then_revokes_it(
    page: Page, stack: BrowserStack
) -> None:
    day = next_year_weekday(stack)
    await sign_in(page, "admin")
    await page.goto("/quan-tri/lich")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Lịch làm việc")
    # Tết and the public holidays of this year are on the calendar already
    await expect(page.get_by_test_id("special-days").get_by_role("row").nth(1)).to_be_visible()
    await axe_check(page, "admin-calendar")
    await screenshot(page, "admin-calendar")

    await page.get_by_role("combobox", name=re.compile("^Năm")).select_option(str(day.year))
    await page.get_by_role("combobox", name=re.compile("^Hiển thị")).select_option(str(day.month))
    cell = page.locator(f'td[data-day="{day.isoformat()}"]')
    await expect(cell).not_to_have_class(re.compile("closed"))

    form = page.get_by_role("form", name="Thêm ngày nghỉ hoặc ngày làm bù")
    # the reason is required, like the API requires it
    await form.get_by_label("Ngày", exact=True).fill(day.isoformat())
    await form.get_by_role("button", name="Thêm vào lịch").click()
    await expect(form.get_by_label("Lý do")).to_have_attribute("aria-invalid", "true")
    await form.get_by_label("Lý do").fill("Nghỉ kỷ niệm ngày thành lập thành phố")
    await form.get_by_role("button", name="Thêm vào lịch").click()
    await expect(form.get_by_role("status")).to_contain_text(f"{day:%d/%m/%Y}")

    await expect(cell).to_have_class(re.compile("closed"))
    await expect(cell).to_have_attribute("title", "Nghỉ kỷ niệm ngày thành lập thành phố")
    special = page.get_by_test_id("special-days")
    await expect(special.get_by_role("row").filter(has_text=f"{day:%d/%m/%Y}")).to_contain_text("Nghỉ kỷ niệm")
    overrides = page.get_by_test_id("overrides")
    row = overrides.get_by_role("row").filter(has_text="Nghỉ kỷ niệm ngày thành lập thành phố")
    await expect(row).to_be_visible()
    await axe_check(page, "admin-calendar-added")
    await screenshot(page, "admin-calendar-added")

    await row.get_by_role("button", name=re.compile("Hủy điều chỉnh")).click()
    await row.get_by_label("Lý do hủy").fill("Nhập nhầm ngày")
    await row.get_by_role("button", name="Xác nhận hủy").click()
    await expect(row).to_contain_text("Đã hủy")
    await expect(cell).not_to_have_class(re.compile("closed"))

    # the weekly hours form opens with the hours in force (not saved here: other tests share the calendar)
    await page.get_by_text("Giờ làm việc hằng tuần").click()
    weekly = page.get_by_role("form", name="Giờ làm việc hằng tuần")
    await expect(weekly.get_by_label("Thứ Hai")).to_have_value("07:30-11:30, 13:00-17:00")
    await expect(weekly.get_by_label("Chủ Nhật")).to_have_value("")
    await weekly.get_by_label("Thứ Hai").fill("7h30 đến 11h30")
    await weekly.get_by_role("button", name="Lưu giờ làm việc").click()
    await expect(weekly.get_by_label("Thứ Hai")).to_have_attribute("aria-invalid", "true")
    await axe_check(page, "admin-calendar-weekly")


async def test_an_admin_previews_an_sms_template_and_sees_the_segment_count(page: Page) -> None:
    await sign_in(page, "admin")
    await page.goto("/quan-tri/mau-thong-bao")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mẫu thông báo")
    await page.get_by_role("combobox", name=re.compile("^Kênh")).select_option("sms")
    table = page.get_by_test_id("templates")
    await expect(table.get_by_role("row").nth(1)).to_be_visible()
    await axe_check(page, "admin-notification-templates")

    await page.get_by_role("button", name="Thêm mẫu mới").click()
    editor = page.get_by_test_id("template-editor")
    await editor.get_by_role("textbox", name=re.compile("^Sự kiện")).fill("dossier.received")
    await editor.get_by_role("combobox", name=re.compile("^Kênh")).select_option("sms")
    await editor.get_by_label("Nội dung").fill(
        "Ho so {{ dossier_code }} da duoc tiep nhan. Hen tra ket qua theo phieu hen."
    )
    await editor.get_by_role("button", name="Xem trước").click()
    segments = editor.get_by_test_id("sms-segments")
    await expect(segments).to_contain_text("SMS: 1 tin")
    await expect(segments).to_contain_text("GSM-7")

    # Vietnamese with diacritics needs UCS-2: more parts for a longer text
    await editor.get_by_label("Nội dung").fill(
        "Hồ sơ {{ dossier_code }} đã được tiếp nhận, vui lòng đến đúng hẹn để nhận kết quả."
    )
    await editor.get_by_role("button", name="Xem trước").click()
    await expect(segments).to_contain_text("UCS-2")
    await expect(segments).to_contain_text("SMS: 2 tin")
    await expect(editor.get_by_test_id("preview")).to_contain_text("đã được tiếp nhận")
    await axe_check(page, "admin-notification-preview")
    await screenshot(page, "admin-notification-preview")

    # a text over the SMS limit: the API's problem is shown and the text stays as typed
    too_long = "Hồ sơ {{ dossier_code }} đã được tiếp nhận. " * 6
    await editor.get_by_label("Nội dung").fill(too_long)
    await editor.get_by_role("button", name="Xem trước").click()
    await expect(editor.get_by_role("alert")).to_be_visible()
    await expect(editor.get_by_label("Nội dung")).to_have_value(too_long)

    # an empty text is refused in the form
    await editor.get_by_label("Nội dung").fill("")
    await editor.get_by_role("button", name="Xem trước").click()
    await expect(editor.get_by_label("Nội dung")).to_have_attribute("aria-invalid", "true")


async def test_an_admin_creates_a_staff_account_with_a_role_and_it_can_sign_in(page: Page, stack: BrowserStack) -> None:
    username = f"cb.{uuid.uuid4().hex[:8]}"
    await sign_in(page, "admin")
    await page.goto("/quan-tri/can-bo")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Cán bộ và vai trò")
    await expect(
        page.get_by_test_id("staff-table").get_by_role("rowheader", name="tiepnhan", exact=True)
    ).to_be_visible()
    await axe_check(page, "admin-staff")

    await page.get_by_role("button", name="Thêm tài khoản cán bộ").click()
    form = page.get_by_test_id("new-staff")
    # client-side checks first: nothing chosen
    await form.get_by_role("button", name="Tạo tài khoản").click()
    await expect(form.get_by_text("Chọn ít nhất một vai trò.")).to_be_visible()
    await expect(form.get_by_label("Tên đăng nhập")).to_have_attribute("aria-invalid", "true")

    await form.get_by_label("Tên đăng nhập").fill(username)
    await form.get_by_label("Họ và tên").fill("Phan Thị Ngọc Hân")
    await form.get_by_label("Thư điện tử").fill("han@example.vn")
    await form.get_by_role("combobox", name=re.compile("^Cơ quan")).select_option("000.00.31.H26")
    await form.get_by_label("Mật khẩu ban đầu").fill("matkhau-123")
    await form.get_by_role("group", name="Vai trò").get_by_role("checkbox", name=re.compile("^Cán bộ một cửa")).check()
    await form.get_by_role("button", name="Tạo tài khoản").click()
    await expect(form.get_by_role("status")).to_contain_text(username)
    row = page.get_by_test_id("staff-table").get_by_role("row").filter(has_text=username)
    await expect(row).to_contain_text("Phan Thị Ngọc Hân")
    await expect(row).to_contain_text("Hoạt động")
    await expect(row).to_contain_text("Cán bộ một cửa")
    await screenshot(page, "admin-staff-created")

    # a second account with the same username: the API's problem is shown, what was typed stays
    await form.get_by_role("button", name="Tạo tài khoản").click()
    await expect(form.get_by_role("alert")).to_be_visible()
    await expect(form.get_by_label("Họ và tên")).to_have_value("Phan Thị Ngọc Hân")

    answer = httpx.post(
        stack.url("workflow") + "/api/v1/auth/token", data={"username": username, "password": "matkhau-123"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["roles"] == ["counter"]

    # deactivate it: the list says so and it can no longer sign in
    await form.get_by_role("button", name="Đóng").click()
    await row.get_by_role("button", name=re.compile("^Sửa")).click()
    edit = page.get_by_test_id("edit-staff")
    await edit.get_by_label("Tài khoản đang hoạt động").uncheck()
    await edit.get_by_role("button", name="Lưu thay đổi").click()
    await expect(edit.get_by_role("status")).to_contain_text(username)
    await expect(row).to_contain_text("Đã khóa")
    answer = httpx.post(
        stack.url("workflow") + "/api/v1/auth/token", data={"username": username, "password": "matkhau-123"}
    )
    assert answer.status_code in (400, 401, 403), answer.text


async def test_agencies_page_lists_the_tree_and_adds_a_unit(page: Page) -> None:
    code = f"000.31.{uuid.uuid4().hex[:4]}.H26"
    await sign_in(page, "admin")
    await page.goto("/quan-tri/co-quan")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Cơ quan, đơn vị")
    table = page.get_by_test_id("agencies-table")
    await expect(table.get_by_role("row").filter(has_text="000.00.31.H26")).to_be_visible()
    await axe_check(page, "admin-agencies")
    await screenshot(page, "admin-agencies")

    await page.get_by_role("button", name="Thêm cơ quan, đơn vị").click()
    form = page.get_by_test_id("new-agency")
    await form.get_by_label("Mã định danh").fill("mã sai!")
    await form.get_by_role("button", name="Thêm", exact=True).click()
    await expect(form.get_by_label("Mã định danh")).to_have_attribute("aria-invalid", "true")
    await form.get_by_label("Mã định danh").fill(code)
    await form.get_by_label("Tên cơ quan, đơn vị").fill("Bộ phận một cửa thử nghiệm")
    await form.get_by_role("combobox", name=re.compile("^Cấp")).select_option(index=1)
    await form.get_by_role("combobox", name=re.compile("^Trực thuộc")).select_option("000.00.31.H26")
    await form.get_by_role("button", name="Thêm", exact=True).click()
    await expect(form.get_by_role("status")).to_contain_text(code)
    row = table.get_by_role("row").filter(has_text=code)
    await expect(row).to_contain_text("Bộ phận một cửa thử nghiệm")

    # rename it and close it from a date: the list shows both
    await form.get_by_role("button", name="Đóng").click()
    await row.get_by_role("button", name=re.compile("^Sửa")).click()
    edit = page.get_by_test_id("edit-agency")
    await edit.get_by_label("Tên cơ quan, đơn vị").fill("Bộ phận một cửa thử nghiệm (đã sáp nhập)")
    await edit.get_by_label("Ngừng hoạt động từ ngày").fill("2030-01-01")
    await edit.get_by_role("button", name="Lưu thay đổi").click()
    await expect(edit.get_by_role("status")).to_contain_text(code)
    await expect(row).to_contain_text("đã sáp nhập")
    await expect(row).to_contain_text("Ngừng từ 01/01/2030")


async def test_procedures_and_workflow_templates(page: Page, stack: BrowserStack) -> None:
    await sign_in(page, "admin")
    await page.goto("/quan-tri/thu-tuc")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Thủ tục hành chính")
    table = page.get_by_test_id("procedures-table")
    await expect(table.get_by_role("row").nth(1)).to_be_visible()
    await axe_check(page, "admin-procedures")
    await screenshot(page, "admin-procedures")

    await table.get_by_role("link").first.click()
    await expect(page.get_by_test_id("versions-table")).to_be_visible()
    await expect(page.get_by_test_id("template-steps").get_by_role("row").nth(1)).to_be_visible()
    await axe_check(page, "admin-procedure")
    await screenshot(page, "admin-procedure")

    # a new workflow version whose shares do not add up to the time limit: the API's problem is shown
    await page.get_by_role("button", name="Tạo phiên bản quy trình mới").click()
    form = page.get_by_test_id("template-form")
    share = form.get_by_label("Thời gian", exact=True).first
    await share.fill(str(float(await share.input_value()) + 1))
    await form.get_by_role("button", name="Lưu quy trình").click()
    await expect(form.get_by_role("alert")).to_be_visible()
    await axe_check(page, "admin-template-error")
    await screenshot(page, "admin-template-error")
    # put it back: the version is created and becomes the active one
    await share.fill(str(float(await share.input_value()) - 1))
    await form.get_by_role("button", name="Lưu quy trình").click()
    await expect(form.get_by_role("status").filter(has_text="Đã tạo quy trình")).to_be_visible()
    await expect(page.get_by_test_id("templates-table").get_by_role("row")).to_have_count(3)

    # the new-version form validates like the API: a time limit is a whole number
    await page.get_by_role("button", name="Thêm phiên bản mới").click()
    version = page.get_by_test_id("version-form")
    await version.get_by_label("Thời hạn giải quyết").fill("2.5")
    await version.get_by_role("button", name="Lưu phiên bản").click()
    await expect(version.get_by_label("Thời hạn giải quyết")).to_have_attribute("aria-invalid", "true")
    await axe_check(page, "admin-version-form")


async def test_an_admin_adds_a_procedure_and_its_first_workflow(page: Page) -> None:
    code = f"9.{uuid.uuid4().int % 1_000_000:06d}"
    await sign_in(page, "admin")
    await page.goto("/quan-tri/thu-tuc")
    await page.get_by_role("button", name="Thêm thủ tục").click()
    form = page.get_by_test_id("new-procedure")
    await form.get_by_role("button", name="Thêm thủ tục").click()
    await expect(form.get_by_label("Mã thủ tục")).to_have_attribute("aria-invalid", "true")
    await expect(form.get_by_label("Thời hạn giải quyết")).to_have_attribute("aria-invalid", "true")

    await form.get_by_label("Mã thủ tục").fill(code)
    await form.get_by_label("Tên thủ tục").fill("Yêu cầu thử nghiệm của quản trị")
    await form.get_by_label("Lĩnh vực").fill("Thử nghiệm")
    await form.get_by_role("combobox", name=re.compile("^Cấp giải quyết")).select_option(index=1)
    await form.get_by_label("Thời hạn giải quyết").fill("2")
    await form.get_by_role("combobox", name=re.compile("^Cơ quan")).first.select_option("000.00.31.H26")
    await form.get_by_role("button", name="Thêm giấy tờ").click()
    await form.get_by_label("Giấy tờ 1").fill("Tờ khai đề nghị cấp giấy xác nhận")
    await axe_check(page, "admin-new-procedure")
    await form.get_by_role("button", name="Thêm thủ tục").click()
    await expect(form.get_by_role("status")).to_contain_text("Đã thêm thủ tục")
    await screenshot(page, "admin-new-procedure")
    await form.get_by_role("status").get_by_role("link").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Yêu cầu thử nghiệm của quản trị")
    await expect(page.get_by_text("Chưa có quy trình.")).to_be_visible()
    await page.get_by_role("button", name="Tạo phiên bản quy trình mới").click()
    workflow_form = page.get_by_test_id("template-form")
    await workflow_form.get_by_role("button", name="Lưu quy trình").click()
    await expect(workflow_form.get_by_text("Quy trình cần ít nhất một bước.")).to_be_visible()
    await workflow_form.get_by_role("button", name="Thêm bước").click()
    step = workflow_form.get_by_role("group", name="Bước 1")
    await step.get_by_label("Mã bước").fill("tiep_nhan_tra")
    await step.get_by_label("Tên bước").fill("Tiếp nhận, giải quyết và trả kết quả")
    await step.get_by_role("combobox", name=re.compile("^Vai trò xử lý")).select_option("counter")
    await step.get_by_label("Thời gian", exact=True).fill("2")
    await step.get_by_role("checkbox", name="Ký duyệt kết quả", exact=True).check()
    await step.get_by_role("checkbox", name="Trả kết quả", exact=True).check()
    await workflow_form.get_by_role("button", name="Lưu quy trình").click()
    await expect(workflow_form.get_by_role("status").filter(has_text="Đã tạo quy trình")).to_be_visible()
    await expect(page.get_by_test_id("template-steps")).to_contain_text("Tiếp nhận, giải quyết và trả kết quả")
    await axe_check(page, "admin-new-procedure-workflow")
    await screenshot(page, "admin-new-procedure-workflow")


async def test_the_admin_pages_in_english(page: Page) -> None:
    await sign_in(page, "admin")
    await page.goto("/quan-tri/lich")
    await page.get_by_test_id("language").select_option("en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Working calendar")
    await expect(page.get_by_role("navigation", name="Administration sections")).to_be_visible()
    await expect(page.locator("abbr[title=Monday]").first).to_have_text("Mo")
    await axe_check(page, "admin-calendar-en")
    await page.goto("/quan-tri/mau-thong-bao")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Notification templates")
    await page.get_by_test_id("language").select_option("vi")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mẫu thông báo")
