"""Languages in the browser: Vietnamese by default, English on request, the choice kept.

The expected strings are read from the catalogues themselves (frontend/src/i18n/{vi,en}/*.json), so
the test checks that the pages show the catalogue's words, not any particular wording.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from services.core.embedded_pg import REPO_ROOT
from tests.browser.conftest import axe_check, screenshot, sign_in

I18N = REPO_ROOT / "frontend" / "src" / "i18n"
# page -> (namespace, key of its <h1>)
PAGES = {
    "/": ("citizen", "home.title"),
    "/thu-tuc": ("citizen", "catalogue.title"),
    "/tra-cuu": ("citizen", "track.title"),
    "/phan-anh": ("citizen", "complaint.title"),
    "/dang-nhap": ("common", "signIn.title"),
}
NAV = ("nav.procedures", "nav.track", "nav.complaint")


def text(language: str, namespace: str, key: str) -> str:
    tree: Any = json.loads((I18N / language / f"{namespace}.json").read_text(encoding="utf-8"))
    for part in key.split("."):
        tree = tree[part]
    assert isinstance(tree, str)
    return tree


def dotted_keys() -> set[str]:
    """Every nested key of every catalogue ("catalogue.title"): one of them on screen is a missing string."""

    def walk(tree: dict[str, Any], prefix: str) -> set[str]:
        out: set[str] = set()
        for key, value in tree.items():
            out |= walk(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}"}
        return out

    return set().union(*(walk(json.loads(path.read_text(encoding="utf-8")), "") for path in I18N.glob("vi/*.json")))


async def expect_language(page: Page, language: str) -> None:
    await expect(page.locator("html")).to_have_attribute("lang", language)
    nav = page.get_by_role("navigation", name=text(language, "common", "nav.main"))
    for key in NAV:
        await expect(nav.get_by_role("link", name=text(language, "common", key), exact=True)).to_be_visible()
    await expect(page.get_by_role("contentinfo")).to_contain_text(text(language, "common", "footer"))


async def expect_no_raw_keys(page: Page) -> None:
    body = await page.locator("body").inner_text()
    shown = set(re.findall(r"\b[a-zA-Z]+(?:\.[a-zA-Z]+)+\b", body))
    raw = sorted(shown & dotted_keys())
    assert raw == [], f"untranslated keys on {page.url}: {raw}"


@pytest.mark.parametrize("path", list(PAGES))
async def test_public_pages_are_in_vietnamese_by_default_and_in_english_on_request(page: Page, path: str) -> None:
    namespace, heading = PAGES[path]
    await page.goto(path)
    await expect_language(page, "vi")
    await expect(page.get_by_role("heading", level=1)).to_have_text(text("vi", namespace, heading))
    assert re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", text("vi", namespace, heading), re.I), (
        "the Vietnamese heading has no diacritics"
    )
    await expect_no_raw_keys(page)

    await page.get_by_test_id("language").select_option("en")
    await expect_language(page, "en")
    english = text("en", namespace, heading)
    assert english != text("vi", namespace, heading)
    await expect(page.get_by_role("heading", level=1)).to_have_text(english)
    await expect_no_raw_keys(page)
    name = path.strip("/").replace("/", "-") or "home"
    await axe_check(page, f"{path} in English")
    await screenshot(page, f"i18n-{name}-en")

    await page.reload()  # the choice is kept
    await expect_language(page, "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text(english)

    await page.get_by_test_id("language").select_option("vi")
    await expect_language(page, "vi")
    await expect(page.get_by_role("heading", level=1)).to_have_text(text("vi", namespace, heading))


async def test_the_browser_tab_title_follows_the_page_and_the_language(page: Page) -> None:
    await page.goto("/thu-tuc")
    await expect(page).to_have_title(re.compile(re.escape(text("vi", "citizen", "catalogue.title"))))
    await page.get_by_test_id("language").select_option("en")
    await expect(page).to_have_title(re.compile(re.escape(text("en", "citizen", "catalogue.title"))))


async def test_a_failed_sign_in_is_explained_in_the_chosen_language(page: Page) -> None:
    await page.goto("/dang-nhap")
    # an unknown account: failures count per username, and the demo accounts must stay unthrottled
    await page.get_by_label(text("vi", "common", "signIn.username")).fill("khongcotaikhoan")
    await page.get_by_label(text("vi", "common", "signIn.password")).fill("not-the-password")
    await page.get_by_role("button", name=text("vi", "common", "signIn.submit")).click()
    await expect(page.get_by_role("alert")).to_have_text(text("vi", "common", "signIn.failed"))
    # what was typed is still there
    await expect(page.get_by_label(text("vi", "common", "signIn.username"))).to_have_value("khongcotaikhoan")
    await page.get_by_test_id("language").select_option("en")
    await expect(page.get_by_role("alert")).to_have_text(text("en", "common", "signIn.failed"))


async def test_an_api_problem_is_explained_per_code_in_the_users_language(page: Page) -> None:
    await sign_in(page, "chuyenvien")
    await page.goto("/can-bo/ho-so/000.00.31.H26-000101-9999")  # no such dossier: 404 dossier_not_found
    problem = page.get_by_test_id("problem")
    await expect(problem).to_contain_text(text("vi", "common", "problems.dossier_not_found"))
    await expect(problem).not_to_contain_text("No dossier")  # the API's English words stay out of Vietnamese
    await axe_check(page, "problem alert")
    await screenshot(page, "i18n-problem-vi")
    await page.get_by_test_id("language").select_option("en")
    await expect(problem).to_contain_text(text("en", "common", "problems.dossier_not_found"))
