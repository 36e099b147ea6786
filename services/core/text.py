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
