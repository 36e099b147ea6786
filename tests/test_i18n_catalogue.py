"""The SPA's string catalogues (frontend/src/i18n/{vi,en}/<namespace>.json).

- Every namespace has the same keys in Vietnamese and English, no empty values, the same
  {{placeholders}} in both, and Vietnamese that is Vietnamese: written with its diacritics and not
  the English text left in place.
- Every problem code the services answer with has its message in common.json (problems.<code>),
  so the user never sees the generic message for a known problem.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from services.core.embedded_pg import REPO_ROOT

I18N = REPO_ROOT / "frontend" / "src" / "i18n"
NAMESPACES = ("common", "citizen", "staff", "leader", "admin")
LANGUAGES = ("vi", "en")
VIETNAMESE_LETTERS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\{\{\s*([\w.]+)[^}]*\}\}")
# words Vietnamese UIs use as they are
INTERNATIONAL = {"email", "sms", "menu", "english", "ok", "pdf", "excel", "csv", "id", "url", "webhook", "zalo"}
# codes that are the gateway's or the HTTP layer's rather than raised in the services' code
HTTP_CODES = {"method_not_allowed", "http_error", "spa_not_built", "bad_request"}


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def catalogue(language: str, namespace: str) -> dict[str, Any]:
    path = I18N / language / f"{namespace}.json"
    assert path.is_file(), f"{path.relative_to(REPO_ROOT)} is missing"
    return flatten(json.loads(path.read_text(encoding="utf-8")))


def words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]{3,}", PLACEHOLDER.sub(" ", text))


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_vietnamese_and_english_have_the_same_keys(namespace: str) -> None:
    vi, en = catalogue("vi", namespace), catalogue("en", namespace)
    assert sorted(set(vi) - set(en)) == [], f"{namespace}: keys only in vi"
    assert sorted(set(en) - set(vi)) == [], f"{namespace}: keys only in en"


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_no_value_is_empty_or_not_a_string(namespace: str) -> None:
    for language in LANGUAGES:
        bad = [key for key, value in catalogue(language, namespace).items() if not isinstance(value, str)]
        assert bad == [], f"{language}/{namespace}: not strings"
        empty = [key for key, value in catalogue(language, namespace).items() if not value.strip()]
        assert empty == [], f"{language}/{namespace}: empty values"


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_both_languages_use_the_same_placeholders(namespace: str) -> None:
    vi, en = catalogue("vi", namespace), catalogue("en", namespace)
    different = {
        key: (sorted(set(PLACEHOLDER.findall(vi[key]))), sorted(set(PLACEHOLDER.findall(en[key]))))
        for key in vi
        if key in en and set(PLACEHOLDER.findall(vi[key])) != set(PLACEHOLDER.findall(en[key]))
    }
    assert different == {}, f"{namespace}: placeholders differ (vi, en)"


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_vietnamese_is_not_the_english_left_in_place(namespace: str) -> None:
    vi, en = catalogue("vi", namespace), catalogue("en", namespace)
    copied = {
        key: value
        for key, value in vi.items()
        if en.get(key) == value
        and not VIETNAMESE_LETTERS.search(value)  # a proper name in Vietnamese, e.g. "Một Cửa"
        and any(word.lower() not in INTERNATIONAL for word in words(value))
    }
    assert copied == {}, f"{namespace}: Vietnamese values that are the English ones"


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_vietnamese_is_written_with_its_diacritics(namespace: str) -> None:
    vi = catalogue("vi", namespace)
    texts = {key: value for key, value in vi.items() if len(words(value)) >= 3}
    bare = {key: value for key, value in texts.items() if not VIETNAMESE_LETTERS.search(value)}
    # a sentence of three words or more in Vietnamese without a single accented letter is almost surely
    # unaccented ("Thu tuc hanh chinh") or English
    assert bare == {}, f"{namespace}: Vietnamese text without diacritics"


ERROR_CALLS = {"problem", "_problem", "TemplateProblem"}


def _raises_a_problem(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name in ERROR_CALLS or name in _error_classes() or name.endswith(("Error", "Problem"))


def _error_classes() -> set[str]:
    from services.core import errors

    return {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.DomainError)
    }


def problem_codes() -> set[str]:
    """Every ``code`` a DomainError (or a problem response) is raised or declared with in the services."""
    codes: set[str] = set()
    for package in ("services", "intake_api", "workflow_api", "notify_api"):
        for path in (REPO_ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or "demo" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and _raises_a_problem(node):
                    for keyword in node.keywords:
                        if keyword.arg != "code":
                            continue
                        if isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                            codes.add(keyword.value.value)
                        elif isinstance(keyword.value, ast.JoinedStr):
                            codes.update(_f_string_codes(path))
                if isinstance(node, ast.ClassDef):
                    codes.update(_class_codes(node))
    return codes


def _class_codes(node: ast.ClassDef) -> set[str]:
    """class NotFound(DomainError): status, code, title = 404, "not_found", "Not found" """
    found: set[str] = set()
    for statement in node.body:
        if not (isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple)):
            continue
        for target in statement.targets:
            if not isinstance(target, ast.Tuple):
                continue
            for name, value in zip(target.elts, statement.value.elts, strict=False):
                if isinstance(name, ast.Name) and name.id == "code" and isinstance(value, ast.Constant):
                    found.add(str(value.value))
    return found


def _f_string_codes(path: Path) -> set[str]:
    # services/workflow/printing.py: code=f"no_{action}" for the documents it prints from the history
    if path.name == "printing.py":
        text = path.read_text(encoding="utf-8")
        return {f"no_{action}" for action in re.findall(r'_last\(session, dossier, "(\w+)"\)', text)}
    return set()


def test_every_problem_code_of_the_services_has_a_message_in_both_languages() -> None:
    codes = problem_codes()
    assert len(codes) > 50, "the scan found too few codes: has the error style changed?"
    for language in LANGUAGES:
        messages = {
            key.removeprefix("problems.") for key in catalogue(language, "common") if key.startswith("problems.")
        }
        missing = sorted(codes - messages)
        assert missing == [], f"{language}/common.json has no problems.<code> message for these codes"
        assert "generic" in messages


# what frontend/src/components/labels.ts noteText() fills in from a note's params
NOTE_PLACEHOLDERS = {
    "due_at",
    "appointment_at",
    "amount",
    "files",
    "reasons",
    "items",
    "attempt",
    "scheduled_for",
    "reason",
}


def test_every_system_note_code_has_its_sentence_in_both_languages() -> None:
    from services.dossier.notes import NOTE_CODES

    for language in LANGUAGES:
        sentences = {
            key.removeprefix("notes."): value for key, value in catalogue(language, "common").items()
            if key.startswith("notes.")
        }  # fmt: skip
        assert sorted(NOTE_CODES - set(sentences)) == [], f"{language}/common.json has no notes.<code> for these"
        assert sorted(set(sentences) - NOTE_CODES) == [], f"{language}/common.json: notes for codes never sent"
        unknown = {code: text for code, text in sentences.items() if set(PLACEHOLDER.findall(text)) - NOTE_PLACEHOLDERS}
        assert unknown == {}, f"{language}/common.json: notes with placeholders the SPA does not fill"
