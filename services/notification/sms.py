"""SMS length: which encoding a text needs and how many segments it takes.

GSM-7 (the GSM 03.38 default alphabet) carries 160 characters in one message and 153 per part
of a concatenated one; anything outside it — Vietnamese with its diacritics — makes the whole
message UCS-2: 70 characters, 67 per part. Characters of the GSM-7 extension table (``€``,
``[``…) take two septets; in UCS-2 a character outside the BMP takes two code units. Texts are
counted in NFC, as they are sent (an NFD "ệ" would be three characters).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

MAX_SEGMENTS = 2

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SmsLength:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # capacity of one segment at this length (single or concatenated)

    @property
    def within_limit(self) -> bool:
        return self.segments <= MAX_SEGMENTS


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def measure(text: str) -> SmsLength:
    """The encoding a text needs and the number of segments it is sent in."""
    text = normalise(text)
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text):
        encoding: Encoding = "GSM-7"
        units = sum(2 if ch in _GSM7_EXTENSION else 1 for ch in text)
        single, part = 160, 153
    else:
        encoding = "UCS-2"
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
    if units <= single:
        return SmsLength(encoding, units, 1, single)
    return SmsLength(encoding, units, -(-units // part), part)
