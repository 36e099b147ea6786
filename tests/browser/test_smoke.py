"""The harness itself: the SPA is served by the gateway, in Vietnamese, accessible, and staff can sign in."""

from __future__ import annotations

import json
import re

import httpx
from playwright.async_api import Page, expect

from tests.browser.conftest import BrowserStack, axe_check, screenshot, sign_in, wait_until


async def test_home_and_sign_in_pages_load_in_vietnamese_and_pass_axe(page: Page, stack: BrowserStack) -> None:
    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "vi")
    await expect(page.get_by_role("navigation", name="Điều hướng chính")).to_be_visible()
    await axe_check(page, "home")
    await screenshot(page, "smoke-home")

    await page.goto("/dang-nhap")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đăng nhập dành cho cán bộ")
    await axe_check(page, "sign-in")
    await screenshot(page, "smoke-sign-in")


async def test_a_counter_officer_signs_in(page: Page) -> None:
    await sign_in(page, "tiepnhan")
    await expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    assert "/can-bo/" in page.url


async def test_on_a_phone_the_navigation_folds_behind_a_menu_button(phone_page: Page) -> None:
    await phone_page.goto("/")
    await expect(phone_page.locator("html")).to_have_attribute("lang", "vi")
    menu = phone_page.get_by_role("button", name="Menu")
    catalogue = phone_page.get_by_role("link", name="Thủ tục hành chính", exact=True)
    await expect(menu).to_have_attribute("aria-expanded", "false")
    await expect(catalogue).to_be_hidden()
    await screenshot(phone_page, "smoke-home-phone")
    await menu.click()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    await expect(catalogue).to_be_visible()
    await axe_check(phone_page, "home (phone, menu open)")
    await screenshot(phone_page, "smoke-home-phone-menu")
    await catalogue.click()
    await expect(phone_page).to_have_url(re.compile(r"/thu-tuc$"))
    await expect(menu).to_have_attribute("aria-expanded", "false")
    # the new page's content has the focus, as after a full page load
    await phone_page.wait_for_function(  # the page's chunk may still be loading: the focus moves once it is in
        "() => document.activeElement && document.activeElement.id === 'main'", timeout=5_000
    )
    # Escape folds the open menu and gives the focus back to its button
    await menu.click()
    await expect(catalogue).to_be_visible()
    await phone_page.keyboard.press("Escape")
    await expect(menu).to_have_attribute("aria-expanded", "false")
    await expect(menu).to_be_focused()


async def test_staff_pages_ask_to_sign_in_then_come_back_and_check_the_role(page: Page, stack: BrowserStack) -> None:
    await page.goto("/can-bo/ho-so")
    await expect(page).to_have_url(re.compile(r"/dang-nhap$"))
    await page.get_by_label("Tên đăng nhập").fill("chuyenvien")
    await page.get_by_label("Mật khẩu").fill("demo")
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page).to_have_url(re.compile(r"/can-bo/ho-so$"))  # back where they wanted to go

    await page.get_by_role("navigation", name="Điều hướng chính").get_by_role("link", name="Thông báo").click()
    await expect(page).to_have_url(re.compile(r"/can-bo/thong-bao$"))
    await page.goto("/quan-tri")  # a specialist is not an administrator
    await expect(page.get_by_role("heading", level=1)).to_have_text("Không có quyền truy cập")
    await expect(page.get_by_role("alert")).to_have_text("Bạn không có quyền xem trang này.")
    await axe_check(page, "forbidden")

    session = json.loads(await page.evaluate("sessionStorage.getItem('motcua.session')"))
    await page.get_by_role("button", name="Đăng xuất").click()
    await expect(page.get_by_role("link", name="Đăng nhập")).to_be_visible()
    # signing out ends the token on the server too, not only in the tab (within 5 s on every service)
    old = {"Authorization": f"Bearer {session['accessToken']}"}

    async def refused() -> bool:
        async with httpx.AsyncClient(base_url=stack.url("workflow")) as workflow:
            return (await workflow.get("/api/v1/auth/me", headers=old)).status_code == 401

    await wait_until(refused, timeout=5, what="the signed-out token refused")
    await page.goto("/khong-co-trang-nay")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy trang bạn yêu cầu.")
    await page.get_by_role("link", name="Về trang chủ").click()
    await expect(page).to_have_url(re.compile(r"/$"))
