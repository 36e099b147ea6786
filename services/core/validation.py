"""Validators for Vietnamese identifiers shared by the services' schemas."""

from __future__ import annotations

import re

_PHONE = re.compile(r"^(?:\+?84|0)(3|5|7|8|9)\d{8}$")
_CCCD = re.compile(r"^\d{12}$")
_TAX_CODE = re.compile(r"^\d{10}(?:-\d{3})?$")


def normalise_vn_phone(value: str) -> str:
    """A Vietnamese mobile number in the national form 0xxxxxxxxx; raises ValueError otherwise."""
    compact = re.sub(r"[\s.-]", "", value)
    match = _PHONE.match(compact)
    if not match:
        raise ValueError("not a Vietnamese mobile number (10 digits starting 03, 05, 07, 08 or 09)")
    return "0" + compact[-9:]


def check_id_number(value: str) -> str:
    """A 12-digit CCCD (citizen) or a 10/13-digit tax code (business); raises ValueError otherwise."""
    compact = value.strip()
    if _CCCD.match(compact) or _TAX_CODE.match(compact):
        return compact
    raise ValueError("not a 12-digit CCCD number or a tax code")
