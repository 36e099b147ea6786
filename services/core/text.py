"""Vietnamese text folded for accent-insensitive search: "Đăng ký khai sinh" → "dang ky khai sinh"."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), single spaces."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "d").replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", bare.lower()).strip()


NAME_FIELD_SEPARATOR = " | "


def procedure_search_text(code: str, name: str, field: str) -> str:
    """``Procedure.search_text``: "<code> <name> | <field>" folded.

    The separator lets search rank a match in the code or name above a match in the field only
    (``split_part(search_text, ' | ', 1)`` is the code and name); it never occurs in a folded query word
    that matters, and a query for "|" simply matches everything.
    """
    return f"{fold(f'{code} {name}')}{NAME_FIELD_SEPARATOR}{fold(field)}"
