"""Recipients as the API shows them: enough to recognise, not enough to reuse."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """0912345678 → 0912***678."""
    digits = phone.strip()
    if len(digits) <= 7:
        return "***"
    return f"{digits[:4]}***{digits[-3:]}"


def mask_email(address: str) -> str:
    """thuha@example.vn → th***@example.vn."""
    local, _, domain = address.strip().rpartition("@")
    if not local:
        return "***"
    return f"{local[:2]}***@{domain}"


def mask_recipient(channel: str, recipient: str) -> str:
    if recipient.startswith(("staff:", "agency:")):
        return recipient
    if channel == "email" or "@" in recipient:
        return mask_email(recipient)
    return mask_phone(recipient)
