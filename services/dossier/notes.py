"""What the tracking page says happened: the system's notes as stable codes with their parameters.

A note written by the system on a hand-over line (the sentence the citizen's tracking page shows:
"Hồ sơ được tiếp nhận. Hẹn trả kết quả: …") is stored three ways:

- ``public_note``: the Vietnamese sentence, as before — the PDFs, the e-mails and older clients read
  it, so it stays;
- ``note_code``: one of ``NOTE_CODES``, stable, the same in every language;
- ``note_params``: the values the sentence names, as data — instants in ISO 8601, amounts in đồng,
  counts — and the words an officer typed (reasons, documents asked for) *as typed*: the system does
  not translate free text, the SPA shows it next to the translated sentence.

The SPA renders the sentence from the code in the user's language (``notes.<code>`` in
frontend/src/i18n/{vi,en}/citizen.json, which tests/test_i18n_catalogue.py checks against
``NOTE_CODES``) and formats the params itself (dates as dd/mm/yyyy HH:mm, amounts with separators).

Lines written before the codes existed, and writers that still pass a plain sentence, get their code
back at read time when the sentence is exactly one of the parameterless ones (``note_of``); any other
sentence is shown as it was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# code -> the Vietnamese sentence, for notes without parameters (also the read-time fallback)
FIXED_NOTES: dict[str, str] = {
    "submitted_online": "Hồ sơ đã được nộp trực tuyến, chờ cán bộ một cửa kiểm tra.",
    "submitted_at_desk": "Hồ sơ được nộp tại Bộ phận một cửa.",
    "withdrawn": "Công dân rút hồ sơ.",
    "paid": "Đã thực hiện nghĩa vụ tài chính",
    "routed": "Hồ sơ được chuyển đến bộ phận giải quyết.",
    "transferred": "Hồ sơ được chuyển sang cơ quan phối hợp giải quyết (liên thông).",
    "resolved": "Hồ sơ đã có kết quả giải quyết, mời nhận kết quả.",
    "returned": "Đã trả kết quả cho công dân.",
    # the public post (services.intake.postal); the first four were once written as plain sentences
    # and are still recognised by their text on those older lines
    "postal_pickup_requested": "Bưu điện đã nhận yêu cầu đến nhận hồ sơ tại nhà.",
    "postal_picked_up": "Bưu điện đã nhận hồ sơ tại nhà.",
    "postal_result_picked_up": "Bưu điện đã nhận kết quả để chuyển trả.",
    "returned_by_post": "Đã trả kết quả qua bưu chính.",
    "postal_pickup_cancelled": "Yêu cầu bưu điện đến nhận hồ sơ tại nhà đã bị hủy; hồ sơ chưa được tiếp nhận.",
    "postal_returned": "Bưu điện đã chuyển trả kết quả về Bộ phận Tiếp nhận và Trả kết quả. Mời ông/bà đến nhận "
    "trực tiếp hoặc đề nghị gửi lại qua bưu điện.",
    "postal_redelivery_requested": "Bộ phận Tiếp nhận và Trả kết quả đã đề nghị bưu điện giao lại kết quả.",
    # "4 tại chỗ" (services.workflow.on_the_spot): the result handed over in the sitting it was received in
    "returned_on_the_spot": "Đã giải quyết và trả kết quả tại chỗ cho công dân.",
    # electronic results (services.dossier.eresult): the citizen's first download, or the set time passed
    "returned_online": "Công dân đã tải kết quả điện tử; hồ sơ đã trả kết quả.",
    "returned_online_auto": "Kết quả điện tử đã sẵn sàng để tải về; hết thời hạn chờ tải, hồ sơ được ghi nhận đã "
    "trả kết quả.",
}

# code -> the names of its params (what the SPA's sentence interpolates)
PARAM_NOTES: dict[str, tuple[str, ...]] = {
    "received": ("due_at",),
    "refused": ("reasons",),
    "supplement_requested": ("items",),
    "supplemented": ("files",),
    "payment_requested": ("amount_vnd",),
    "stopped": ("reasons",),
    "apologized": ("appointment_at",),
    # the public post: ``reason_code`` is the operator's (its words are the SPA's, "other" when unknown),
    # ``scheduled_for`` an instant; a last failed attempt and an undated re-delivery have their own sentence
    "received_by_post": ("due_at",),
    "postal_delivery_failed": ("attempt", "reason_code"),
    "postal_delivery_failed_final": ("attempt", "reason_code"),
    "postal_redelivery_scheduled": ("attempt", "scheduled_for"),
    "postal_redelivery_scheduled_undated": ("attempt",),
}

NOTE_CODES: frozenset[str] = frozenset(FIXED_NOTES) | frozenset(PARAM_NOTES)

_CODE_BY_SENTENCE = {sentence: code for code, sentence in FIXED_NOTES.items()}


@dataclass(frozen=True)
class Note:
    """A system note: its code, its params and the Vietnamese sentence (``text``) stored beside them."""

    code: str
    text: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in NOTE_CODES:
            raise ValueError(f"unknown note code {self.code!r}: add it to services.dossier.notes")
        expected = set(PARAM_NOTES.get(self.code, ()))
        if set(self.params) != expected:
            raise ValueError(f"note {self.code!r} takes params {sorted(expected)}, got {sorted(self.params)}")


def fixed(code: str) -> Note:
    """A note without parameters, its sentence from ``FIXED_NOTES``."""
    return Note(code, FIXED_NOTES[code])


def note_of(code: str | None, params: dict[str, Any] | None, sentence: str | None) -> tuple[str | None, dict[str, Any]]:
    """The code and params to answer with for a stored line (a parameterless sentence finds its code)."""
    if code is not None:
        return code, dict(params or {})
    if sentence is not None and sentence in _CODE_BY_SENTENCE:
        return _CODE_BY_SENTENCE[sentence], {}
    return None, {}
