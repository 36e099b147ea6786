"""No CCCD number, phone, email or address reaches a log line."""

from __future__ import annotations

import json
import logging

from services.core.logging import JsonFormatter, request_id_var, scrub_text


def format_record(message: str, *args: object, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("motcua.test", logging.INFO, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    line = JsonFormatter("intake").format(record)
    return json.loads(line)  # type: ignore[no-any-return]


def test_message_values_are_redacted() -> None:
    entry = format_record(
        "applicant %s phone %s mail %s tax %s",
        "001203004567",
        "+84 912 345 678",
        "lan.nguyen@example.vn",
        "0101234567-001",
    )
    text = str(entry["msg"])
    for value in ("001203004567", "912 345 678", "lan.nguyen@example.vn", "0101234567"):
        assert value not in text
    assert text.count("[redacted]") == 4


def test_structured_fields_named_as_personal_data_are_redacted() -> None:
    entry = format_record(
        "submission",
        applicant={"full_name": "Trần Văn Bình", "address": "12 Lạch Tray, Ngô Quyền, Hải Phòng", "id_number": "x"},
        postal_address="Số 5 ngõ 3 Cầu Đất",
        dossier_code="000.00.01.H26-261123-0001",
    )
    dumped = json.dumps(entry, ensure_ascii=False)
    assert "Lạch Tray" not in dumped
    assert "Cầu Đất" not in dumped
    assert "Trần Văn Bình" not in dumped
    # what is not personal stays readable
    assert entry["dossier_code"] == "000.00.01.H26-261123-0001"


def test_query_strings_and_tokens_are_redacted() -> None:
    text = scrub_text("GET /track/X?phone=0987654321&address=12%20Le%20Loi&secret=abc Authorization: Bearer eyJ.a.b")
    assert "0987654321" not in text
    assert "12%20Le%20Loi" not in text
    assert "secret=abc" not in text
    assert "eyJ.a.b" not in text


def test_request_id_is_in_every_line() -> None:
    token = request_id_var.set("req-42")
    try:
        assert format_record("hello")["request_id"] == "req-42"
    finally:
        request_id_var.reset(token)


def test_timestamps_and_dossier_codes_survive() -> None:
    text = scrub_text("due 2026-11-24T17:00:00+07:00 for 000.17.22.H56-251103-0001, 3 dossiers, 2.5 days")
    assert text == "due 2026-11-24T17:00:00+07:00 for 000.17.22.H56-251103-0001, 3 dossiers, 2.5 days"
