"""The default notification templates (Vietnamese first, English second) and the sample data to preview them.

These are seeded as version 1 by ``ensure_default_templates``; administrators publish new versions
through the API, and the newest version is the one used. Templates never carry personal data: the
context holds codes, dates, names of agencies and procedures, reasons — never the applicant's name,
number, phone, email or address.

Long because it is a table of data: every (event type, channel) pair with its Vietnamese and English
subject and body, about four hundred lines of message text and nothing else but the two small helpers
around it. Kept as Python rather than a data file on purpose: the texts share the greeting, signature
and due-date fragments (``_vi_mail``, ``_VI_DUE``…) written once, and a reviewer reads each message
beside its English twin; splitting the table by event would only scatter one translator's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.calendar.working import VN_TZ
from services.domain.vocabulary import STATUS_LABELS_EN, STATUS_LABELS_VI
from services.dossier.postal import POSTAL_FAILURE_LABELS_EN, POSTAL_FAILURE_LABELS_VI


@dataclass(frozen=True)
class DefaultTemplate:
    event_type: str
    channel: str
    locale: str
    subject: str | None
    body: str


LABELS: dict[str, dict[str, dict[str, str]]] = {
    "vi": {
        "status": dict(STATUS_LABELS_VI),  # the labels the citizen sees when tracking
        "outcome": {"early": "trước hạn", "on_time": "đúng hạn", "late": "quá hạn"},
        "rating": {"satisfied": "Hài lòng", "acceptable": "Chấp nhận được", "dissatisfied": "Không hài lòng"},
        "timer": {"dossier": "Thời hạn giải quyết hồ sơ", "step": "Thời hạn bước xử lý"},
        "complaint_kind": {"complaint": "Phản ánh", "suggestion": "Kiến nghị"},
        "reason_code": dict(POSTAL_FAILURE_LABELS_VI),
    },
    "en": {
        "status": dict(STATUS_LABELS_EN),
        "outcome": {"early": "early", "on_time": "on time", "late": "late"},
        "rating": {"satisfied": "Satisfied", "acceptable": "Acceptable", "dissatisfied": "Dissatisfied"},
        "timer": {"dossier": "The dossier's time limit", "step": "The step's time limit"},
        "complaint_kind": {"complaint": "Complaint", "suggestion": "Suggestion"},
        "reason_code": dict(POSTAL_FAILURE_LABELS_EN),
    },
}

_VI_SIGN = "\n\nTrân trọng,\n{{ agency_name }}\n(Thư gửi tự động từ hệ thống Một Cửa, vui lòng không trả lời thư này.)"
_EN_SIGN = "\n\nKind regards,\n{{ agency_name }}\n(Sent automatically by Một Cửa; please do not reply.)"
_VI_DUE = "{{ due_at|time }} ngày {{ due_at|date }}"
_EN_DUE = "{{ due_at|time }} on {{ due_at|date }}"


def _vi_mail(text: str) -> str:
    return "Kính gửi Quý ông/bà,\n\n" + text + _VI_SIGN


def _en_mail(text: str) -> str:
    return "Dear Sir or Madam,\n\n" + text + _EN_SIGN


_VI_REASONS = "{% for reason in reasons %}- {{ reason }}\n{% endfor %}"
_VI_ITEMS = "{% for item in items %}- {{ item.document }}: {{ item.reason }}\n{% endfor %}"

# (event_type, channel) -> (vi subject, vi body, en subject, en body)
_TEXTS: dict[tuple[str, str], tuple[str | None, str, str | None, str]] = {
    # --- the citizen -------------------------------------------------------------------------------
    ("dossier.submitted", "email"): (
        "Hồ sơ {{ dossier_code }} đã được gửi",
        _vi_mail(
            "Hồ sơ {{ dossier_code }} ({{ procedure_name }}) đã được gửi đến {{ agency_name }}.\n"
            "Bộ phận Tiếp nhận và Trả kết quả sẽ kiểm tra hồ sơ và thông báo cho Quý ông/bà việc tiếp nhận.\n"
            "Quý ông/bà tra cứu hồ sơ bằng mã hồ sơ và mã bí mật đã được cấp khi nộp."
        ),
        "Dossier {{ dossier_code }} submitted",
        _en_mail(
            "Your dossier {{ dossier_code }} ({{ procedure_name }}) was sent to {{ agency_name }}.\n"
            "The one-stop desk will check it and tell you whether it is received.\n"
            "Follow it with the dossier code and the secret you were given."
        ),
    ),
    ("dossier.received", "email"): (
        "Hồ sơ {{ dossier_code }} đã được tiếp nhận, hẹn trả kết quả ngày {{ due_at|date }}",
        _vi_mail(
            "Hồ sơ {{ dossier_code }} ({{ procedure_name }}) đã được {{ agency_name }} tiếp nhận lúc "
            "{{ received_at|time }} ngày {{ received_at|date }}.\n"
            "Thời gian hẹn trả kết quả: " + _VI_DUE + ".\n"
            "Quý ông/bà sẽ được thông báo khi hồ sơ có kết quả."
        ),
        "Dossier {{ dossier_code }} received, result due {{ due_at|date }}",
        _en_mail(
            "Your dossier {{ dossier_code }} ({{ procedure_name }}) was received by {{ agency_name }} at "
            "{{ received_at|time }} on {{ received_at|date }}.\n"
            "The result is due at " + _EN_DUE + ".\nYou will be told when the result is ready."
        ),
    ),
    ("dossier.received", "sms"): (
        None,
        "Hồ sơ {{ dossier_code }} đã được tiếp nhận. Hẹn trả kết quả " + _VI_DUE + ".",
        None,
        "Dossier {{ dossier_code }} received. Result due " + _EN_DUE + ".",
    ),
    ("dossier.refused", "email"): (
        "Hồ sơ {{ dossier_code }} không được tiếp nhận",
        _vi_mail(
            "{{ agency_name }} không tiếp nhận hồ sơ {{ dossier_code }} ({{ procedure_name }}) vì:\n" + _VI_REASONS
        ),
        "Dossier {{ dossier_code }} refused",
        _en_mail(
            "{{ agency_name }} could not receive your dossier {{ dossier_code }} ({{ procedure_name }}):\n"
            "{% for reason in reasons %}- {{ reason }}\n{% endfor %}"
        ),
    ),
    ("dossier.refused", "sms"): (
        None,
        "Hồ sơ {{ dossier_code }} không được tiếp nhận. Lý do xem khi tra cứu hồ sơ.",
        None,
        "Dossier {{ dossier_code }} was refused. See the reasons when you track it.",
    ),
    ("dossier.supplement_requested", "email"): (
        "Hồ sơ {{ dossier_code }} cần bổ sung giấy tờ",
        _vi_mail(
            "Để giải quyết hồ sơ {{ dossier_code }} ({{ procedure_name }}), đề nghị Quý ông/bà bổ sung:\n"
            + _VI_ITEMS
            + "Thời hạn giải quyết tạm dừng cho đến khi nhận đủ giấy tờ bổ sung."
        ),
        "Dossier {{ dossier_code }}: documents needed",
        _en_mail(
            "To resolve your dossier {{ dossier_code }} ({{ procedure_name }}), please supplement:\n"
            + _VI_ITEMS
            + "The time limit is paused until the documents arrive."
        ),
    ),
    ("dossier.supplement_requested", "sms"): (
        None,
        "Hồ sơ {{ dossier_code }} cần bổ sung giấy tờ. Vui lòng tra cứu hồ sơ để xem chi tiết và nộp bổ sung.",
        None,
        "Dossier {{ dossier_code }} needs more documents. Track it for the details and to supplement it.",
    ),
    ("dossier.supplement_received", "email"): (
        "Đã nhận giấy tờ bổ sung cho hồ sơ {{ dossier_code }}",
        _vi_mail("{{ agency_name }} đã nhận giấy tờ bổ sung cho hồ sơ {{ dossier_code }}; hồ sơ tiếp tục được xử lý."),
        "Supplement received for dossier {{ dossier_code }}",
        _en_mail("{{ agency_name }} received the documents for dossier {{ dossier_code }}; processing goes on."),
    ),
    ("dossier.withdrawn", "email"): (
        "Hồ sơ {{ dossier_code }} đã được rút",
        _vi_mail("Theo yêu cầu của Quý ông/bà, hồ sơ {{ dossier_code }} ({{ procedure_name }}) đã được rút."),
        "Dossier {{ dossier_code }} withdrawn",
        _en_mail("As you asked, dossier {{ dossier_code }} ({{ procedure_name }}) was withdrawn."),
    ),
    ("payment.requested", "email"): (
        "Hồ sơ {{ dossier_code }}: đề nghị nộp phí, lệ phí",
        _vi_mail(
            "Để tiếp tục giải quyết hồ sơ {{ dossier_code }} ({{ procedure_name }}), đề nghị Quý ông/bà nộp "
            "{{ amount_vnd|vnd }} đồng.\nMã thanh toán: {{ reference }}\n"
            "Thời hạn giải quyết tạm dừng cho đến khi nhận được thanh toán."
        ),
        "Dossier {{ dossier_code }}: fee to pay",
        _en_mail(
            "To go on with dossier {{ dossier_code }} ({{ procedure_name }}), please pay {{ amount_vnd|vnd }} VND.\n"
            "Payment reference: {{ reference }}\nThe time limit is paused until the payment arrives."
        ),
    ),
    ("payment.requested", "sms"): (
        None,
        "Hồ sơ {{ dossier_code }} cần nộp {{ amount_vnd|vnd }} đồng phí, lệ phí. Mã thanh toán {{ reference }}.",
        None,
        "Dossier {{ dossier_code }}: please pay {{ amount_vnd|vnd }} VND, reference {{ reference }}.",
    ),
    ("payment.paid", "email"): (
        "Đã nhận thanh toán cho hồ sơ {{ dossier_code }}",
        _vi_mail(
            "{{ agency_name }} đã nhận {{ amount_vnd|vnd }} đồng (mã thanh toán {{ reference }}) cho hồ sơ "
            "{{ dossier_code }}; hồ sơ tiếp tục được xử lý."
        ),
        "Payment received for dossier {{ dossier_code }}",
        _en_mail(
            "{{ agency_name }} received {{ amount_vnd|vnd }} VND (reference {{ reference }}) for dossier "
            "{{ dossier_code }}; processing goes on."
        ),
    ),
    ("dossier.resolved", "email"): (
        "Hồ sơ {{ dossier_code }} đã có kết quả",
        _vi_mail(
            "Hồ sơ {{ dossier_code }} ({{ procedure_name }}) đã có kết quả giải quyết.\n"
            "{% if return_method == 'postal' %}Kết quả sẽ được chuyển đến Quý ông/bà qua dịch vụ bưu chính công ích."
            "{% elif return_method == 'online' %}Quý ông/bà tải kết quả điện tử tại {{ tracking_url }} bằng mã "
            "bảo mật in trên giấy tiếp nhận hồ sơ.{% else %}Mời Quý ông/bà đến Bộ phận Tiếp nhận và Trả kết quả của "
            "{{ agency_name }} để nhận kết quả, "
            "mang theo giấy tiếp nhận hồ sơ và hẹn trả kết quả.{% endif %}"
        ),
        "Dossier {{ dossier_code }}: the result is ready",
        _en_mail(
            "The result of dossier {{ dossier_code }} ({{ procedure_name }}) is ready.\n"
            "{% if return_method == 'postal' %}It will be delivered to you by public post."
            "{% elif return_method == 'online' %}Download the electronic result at {{ tracking_url }} with the "
            "secret on your receipt.{% else %}Please collect it at the one-stop desk of {{ agency_name }} with your "
            "receipt.{% endif %}"
        ),
    ),
    ("dossier.resolved", "sms"): (
        None,
        "Hồ sơ {{ dossier_code }} đã có kết quả. {% if return_method == 'postal' %}Kết quả sẽ được gửi qua bưu "
        "điện.{% elif return_method == 'online' %}Tải kết quả tại {{ tracking_url }}{% else %}Mời ông/bà đến nhận "
        "kết quả.{% endif %}",
        None,
        "Dossier {{ dossier_code }}: the result is ready. {% if return_method == 'postal' %}It comes by post."
        "{% elif return_method == 'online' %}Download it at {{ tracking_url }}{% else %}Please collect it at the "
        "desk.{% endif %}",
    ),
    ("dossier.stopped", "email"): (
        "Hồ sơ {{ dossier_code }} dừng xử lý",
        _vi_mail("{{ agency_name }} dừng xử lý hồ sơ {{ dossier_code }} ({{ procedure_name }}) vì:\n" + _VI_REASONS),
        "Dossier {{ dossier_code }} stopped",
        _en_mail(
            "{{ agency_name }} stopped processing dossier {{ dossier_code }} ({{ procedure_name }}):\n" + _VI_REASONS
        ),
    ),
    ("dossier.stopped", "sms"): (
        None,
        "Hồ sơ {{ dossier_code }} đã dừng xử lý. Lý do xem khi tra cứu hồ sơ.",
        None,
        "Dossier {{ dossier_code }} was stopped. See the reasons when you track it.",
    ),
    ("dossier.apology_issued", "email"): (
        "Thư xin lỗi và hẹn lại ngày trả kết quả hồ sơ {{ dossier_code }}",
        _vi_mail(
            "{{ agency_name }} chân thành xin lỗi Quý ông/bà vì hồ sơ {{ dossier_code }} ({{ procedure_name }}) "
            "chưa được giải quyết đúng hẹn ({{ legal_due_at|time }} ngày {{ legal_due_at|date }}).\n"
            "Thời gian hẹn trả kết quả mới: {{ appointment_at|time }} ngày {{ appointment_at|date }}."
        ),
        "Apology and new appointment for dossier {{ dossier_code }}",
        _en_mail(
            "{{ agency_name }} apologises: dossier {{ dossier_code }} ({{ procedure_name }}) will not be resolved "
            "by {{ legal_due_at|time }} on {{ legal_due_at|date }}.\n"
            "New appointment: {{ appointment_at|time }} on {{ appointment_at|date }}."
        ),
    ),
    ("dossier.apology_issued", "sms"): (
        None,
        "Xin lỗi ông/bà: hồ sơ {{ dossier_code }} chậm so với hẹn. Hẹn trả mới {{ appointment_at|time }} ngày "
        "{{ appointment_at|date }}.",
        None,
        "We apologise: dossier {{ dossier_code }} is late. New appointment {{ appointment_at|time }} on "
        "{{ appointment_at|date }}.",
    ),
    ("dossier.returned", "email"): (
        "Hồ sơ {{ dossier_code }} đã trả kết quả",
        _vi_mail(
            "Kết quả giải quyết hồ sơ {{ dossier_code }} ({{ procedure_name }}) đã được trả"
            "{% if return_method == 'postal' %} qua bưu chính công ích{% elif return_method == 'online' %} dưới "
            "dạng điện tử{% endif %}.\n"
            "Cảm ơn Quý ông/bà đã sử dụng dịch vụ; mời Quý ông/bà đánh giá mức độ hài lòng khi tra cứu hồ sơ."
        ),
        "Dossier {{ dossier_code }}: result returned",
        _en_mail(
            "The result of dossier {{ dossier_code }} ({{ procedure_name }}) was handed over"
            "{% if return_method == 'postal' %} by public post{% elif return_method == 'online' %} "
            "electronically{% endif %}.\n"
            "Thank you; you can rate the service when you track the dossier."
        ),
    ),
    ("dossier.returned", "sms"): (
        None,
        "Hồ sơ {{ dossier_code }} đã được trả kết quả. Cảm ơn ông/bà đã sử dụng dịch vụ.",
        None,
        "Dossier {{ dossier_code }}: the result was handed over. Thank you.",
    ),
    # an electronic result attached after the resolution: the citizen was told it was ready, now it is there
    ("dossier.result_added", "email"): (
        "Hồ sơ {{ dossier_code }} có kết quả điện tử",
        _vi_mail(
            "Kết quả điện tử của hồ sơ {{ dossier_code }} ({{ procedure_name }}) đã sẵn sàng"
            "{% if files > 1 %} ({{ files }} tệp){% endif %}.\n"
            "Quý ông/bà tải kết quả tại {{ tracking_url }} bằng mã bảo mật in trên giấy tiếp nhận hồ sơ."
        ),
        "Dossier {{ dossier_code }}: electronic result available",
        _en_mail(
            "The electronic result of dossier {{ dossier_code }} ({{ procedure_name }}) is available"
            "{% if files > 1 %} ({{ files }} files){% endif %}.\n"
            "Download it at {{ tracking_url }} with the secret on your receipt."
        ),
    ),
    ("dossier.result_added", "sms"): (
        None,
        "Hồ sơ {{ dossier_code }} đã có kết quả điện tử. Tải tại {{ tracking_url }}",
        None,
        "Dossier {{ dossier_code }}: the electronic result is available at {{ tracking_url }}",
    ),
    # --- the public post's failures (bưu chính công ích) -----------------------------------------------
    ("dossier.delivery_failed", "email"): (
        "Bưu điện chưa giao được kết quả hồ sơ {{ dossier_code }}",
        _vi_mail(
            "Bưu điện chưa giao được kết quả hồ sơ {{ dossier_code }} ({{ procedure_name }}) lần {{ attempt }}: "
            "{{ reason_code_label }}.\n"
            "{% if final_attempt %}Bưu điện sẽ chuyển trả kết quả về Bộ phận Tiếp nhận và Trả kết quả của "
            "{{ agency_name }}.{% else %}Bưu điện sẽ liên hệ với Quý ông/bà để giao lại.{% endif %}"
        ),
        "The post could not deliver the result of dossier {{ dossier_code }}",
        _en_mail(
            "The post could not deliver the result of dossier {{ dossier_code }} ({{ procedure_name }}), attempt "
            "{{ attempt }}: {{ reason_code_label }}.\n"
            "{% if final_attempt %}The post will take the result back to the one-stop desk of {{ agency_name }}."
            "{% else %}The post will contact you to deliver it again.{% endif %}"
        ),
    ),
    ("dossier.delivery_failed", "sms"): (
        None,
        "Bưu điện chưa giao được kết quả hồ sơ {{ dossier_code }} (lần {{ attempt }}). "
        "{% if final_attempt %}Kết quả sẽ được chuyển về bộ phận một cửa.{% else %}Bưu điện sẽ giao lại.{% endif %}",
        None,
        "The post could not deliver the result of dossier {{ dossier_code }} (attempt {{ attempt }}). "
        "{% if final_attempt %}It goes back to the desk.{% else %}It will try again.{% endif %}",
    ),
    ("dossier.postal_returned", "email"): (
        "Kết quả hồ sơ {{ dossier_code }} đã được chuyển về Bộ phận một cửa",
        _vi_mail(
            "Bưu điện không giao được kết quả hồ sơ {{ dossier_code }} ({{ procedure_name }}) và đã chuyển trả về "
            "Bộ phận Tiếp nhận và Trả kết quả của {{ agency_name }}.\n"
            "Mời Quý ông/bà đến nhận kết quả trực tiếp, mang theo giấy tiếp nhận hồ sơ và hẹn trả kết quả, "
            "hoặc liên hệ Bộ phận để đề nghị gửi lại qua bưu điện."
        ),
        "The result of dossier {{ dossier_code }} is back at the one-stop desk",
        _en_mail(
            "The post could not deliver the result of dossier {{ dossier_code }} ({{ procedure_name }}) and took it "
            "back to the one-stop desk of {{ agency_name }}.\n"
            "Please collect it there with your receipt, or ask the desk to send it by post again."
        ),
    ),
    ("dossier.postal_returned", "sms"): (
        None,
        "Kết quả hồ sơ {{ dossier_code }} đã được bưu điện chuyển về bộ phận một cửa. Mời ông/bà đến nhận "
        "hoặc đề nghị gửi lại.",
        None,
        "The result of dossier {{ dossier_code }} is back at the one-stop desk. Collect it there or ask for "
        "a new delivery.",
    ),
    ("dossier.redelivery_requested", "email"): (
        "Kết quả hồ sơ {{ dossier_code }} được gửi lại qua bưu điện",
        _vi_mail(
            "{{ agency_name }} đã đề nghị bưu điện giao lại kết quả hồ sơ {{ dossier_code }} ({{ procedure_name }}) "
            "qua dịch vụ bưu chính công ích. Bưu điện sẽ liên hệ với Quý ông/bà."
        ),
        "The result of dossier {{ dossier_code }} is sent by post again",
        _en_mail(
            "{{ agency_name }} asked the post to deliver the result of dossier {{ dossier_code }} "
            "({{ procedure_name }}) again. The post will contact you."
        ),
    ),
    ("dossier.pickup_cancelled", "email"): (
        "Hủy yêu cầu nhận hồ sơ {{ dossier_code }} tại nhà",
        _vi_mail(
            "Yêu cầu bưu điện đến nhận hồ sơ {{ dossier_code }} ({{ procedure_name }}) tại nhà đã bị hủy, nên hồ sơ "
            "chưa được tiếp nhận. Quý ông/bà có thể nộp hồ sơ tại Bộ phận Tiếp nhận và Trả kết quả của "
            "{{ agency_name }}."
        ),
        "Pickup of dossier {{ dossier_code }} cancelled",
        _en_mail(
            "The pickup of dossier {{ dossier_code }} ({{ procedure_name }}) at your home was cancelled, so the "
            "dossier has not been received. You can file it at the one-stop desk of {{ agency_name }}."
        ),
    ),
    ("complaint.answered", "email"): (
        "Trả lời {{ complaint_kind_label|lower }} {{ complaint_code }}",
        _vi_mail(
            "{{ agency_name }} trả lời {{ complaint_kind_label|lower }} {{ complaint_code }} "
            "({{ complaint_subject }}):\n\n{{ answer }}"
        ),
        "Answer to {{ complaint_kind_label|lower }} {{ complaint_code }}",
        _en_mail(
            "{{ agency_name }} answers {{ complaint_kind_label|lower }} {{ complaint_code }} "
            "({{ complaint_subject }}):\n\n{{ answer }}"
        ),
    ),
    ("complaint.answered", "sms"): (
        None,
        "{{ complaint_kind_label }} {{ complaint_code }} đã được trả lời. Tra cứu bằng mã này để xem nội dung.",
        None,
        "{{ complaint_kind_label }} {{ complaint_code }} was answered. Look it up by its code.",
    ),
    ("complaint.refused", "email"): (
        "{{ complaint_kind_label }} {{ complaint_code }} không được thụ lý",
        _vi_mail(
            "{{ agency_name }} không thụ lý {{ complaint_kind_label|lower }} {{ complaint_code }} "
            "({{ complaint_subject }}) vì:\n\n{{ answer }}"
        ),
        "{{ complaint_kind_label }} {{ complaint_code }} not taken up",
        _en_mail(
            "{{ agency_name }} will not take up {{ complaint_kind_label|lower }} {{ complaint_code }} "
            "({{ complaint_subject }}):\n\n{{ answer }}"
        ),
    ),
    ("complaint.refused", "sms"): (
        None,
        "{{ complaint_kind_label }} {{ complaint_code }} không được thụ lý. Tra cứu bằng mã này để xem lý do.",
        None,
        "{{ complaint_kind_label }} {{ complaint_code }} was not taken up. Look it up by its code.",
    ),
    # --- staff, in the app --------------------------------------------------------------------------
    ("dossier.submitted", "in_app"): (
        "Hồ sơ trực tuyến mới {{ dossier_code }}",
        "Hồ sơ {{ dossier_code }} ({{ procedure_name }}) vừa được nộp trực tuyến, chờ kiểm tra tiếp nhận.",
        "New online dossier {{ dossier_code }}",
        "Dossier {{ dossier_code }} ({{ procedure_name }}) was submitted online and waits for the desk's check.",
    ),
    ("dossier.supplement_received", "in_app"): (
        "Hồ sơ {{ dossier_code }} đã được bổ sung",
        "Công dân đã nộp giấy tờ bổ sung cho hồ sơ {{ dossier_code }} ({{ procedure_name }}).",
        "Dossier {{ dossier_code }} supplemented",
        "The applicant supplemented dossier {{ dossier_code }} ({{ procedure_name }}).",
    ),
    ("dossier.withdrawn", "in_app"): (
        "Hồ sơ {{ dossier_code }} đã được rút",
        "Công dân đã rút hồ sơ {{ dossier_code }} ({{ procedure_name }}).",
        "Dossier {{ dossier_code }} withdrawn",
        "The applicant withdrew dossier {{ dossier_code }} ({{ procedure_name }}).",
    ),
    ("feedback.received", "in_app"): (
        "Đánh giá mới cho hồ sơ {{ dossier_code }}",
        "Mức độ hài lòng với hồ sơ {{ dossier_code }}: {{ rating_label }}.",
        "New rating for dossier {{ dossier_code }}",
        "Satisfaction with dossier {{ dossier_code }}: {{ rating_label }}.",
    ),
    ("complaint.received", "in_app"): (
        "{{ complaint_kind_label }} mới {{ complaint_code }}",
        "{{ complaint_kind_label }} mới: {{ complaint_subject }}",
        "New {{ complaint_kind_label|lower }} {{ complaint_code }}",
        "New {{ complaint_kind_label|lower }}: {{ complaint_subject }}",
    ),
    ("dossier.postal_returned", "in_app"): (
        "Kết quả hồ sơ {{ dossier_code }} bị bưu điện chuyển trả",
        "Bưu điện đã chuyển trả kết quả hồ sơ {{ dossier_code }} ({{ procedure_name }}) sau {{ failed_attempts }} "
        "lần giao không thành công; kết quả chờ tại bộ phận một cửa: trả trực tiếp hoặc đề nghị giao lại.",
        "Result of dossier {{ dossier_code }} returned by the post",
        "The post brought back the result of dossier {{ dossier_code }} ({{ procedure_name }}) after "
        "{{ failed_attempts }} failed attempts; it waits at the desk: hand it over or ask for a new delivery.",
    ),
    ("dossier.pickup_cancelled", "in_app"): (
        "Hủy nhận hồ sơ {{ dossier_code }} tại nhà",
        "Yêu cầu bưu điện nhận hồ sơ {{ dossier_code }} ({{ procedure_name }}) tại nhà đã bị hủy; hồ sơ chưa được "
        "tiếp nhận.",
        "Pickup of dossier {{ dossier_code }} cancelled",
        "The pickup of dossier {{ dossier_code }} ({{ procedure_name }}) at home was cancelled; it is not received.",
    ),
    ("dossier.routed", "in_app"): (
        "Hồ sơ mới {{ dossier_code }} được giao xử lý",
        "Hồ sơ {{ dossier_code }} ({{ procedure_name }}) được giao cho ông/bà xử lý. Hạn trả kết quả: " + _VI_DUE + ".",
        "New dossier {{ dossier_code }} assigned",
        "Dossier {{ dossier_code }} ({{ procedure_name }}) is assigned to you. Result due " + _EN_DUE + ".",
    ),
    ("dossier.forwarded", "in_app"): (
        "Hồ sơ {{ dossier_code }} được chuyển đến ông/bà",
        "Hồ sơ {{ dossier_code }} ({{ procedure_name }}) được chuyển bước {{ step_position }} đến ông/bà xử lý.",
        "Dossier {{ dossier_code }} forwarded to you",
        "Dossier {{ dossier_code }} ({{ procedure_name }}) reached step {{ step_position }} with you.",
    ),
    ("dossier.transferred", "in_app"): (
        "Hồ sơ liên thông {{ dossier_code }} được chuyển đến",
        "Hồ sơ liên thông {{ dossier_code }} ({{ procedure_name }}) được chuyển đến đơn vị để giải quyết.",
        "Inter-agency dossier {{ dossier_code }} transferred",
        "Inter-agency dossier {{ dossier_code }} ({{ procedure_name }}) was transferred to your unit.",
    ),
    ("dossier.sent_back", "in_app"): (
        "Hồ sơ {{ dossier_code }} bị trả lại",
        "Hồ sơ {{ dossier_code }} được trả lại bước trước. Lý do: {{ reason }}",
        "Dossier {{ dossier_code }} sent back",
        "Dossier {{ dossier_code }} was sent back. Reason: {{ reason }}",
    ),
    ("dossier.resolved", "in_app"): (
        "Hồ sơ {{ dossier_code }} có kết quả, chờ trả",
        "Hồ sơ {{ dossier_code }} ({{ procedure_name }}) đã có kết quả ({{ outcome_label }}), chờ trả cho công dân.",
        "Dossier {{ dossier_code }} resolved, to return",
        "Dossier {{ dossier_code }} ({{ procedure_name }}) is resolved ({{ outcome_label }}); return the result.",
    ),
    ("sla.due_soon", "in_app"): (
        "Hồ sơ {{ dossier_code }} sắp đến hạn",
        "{{ timer_label }} của hồ sơ {{ dossier_code }} đến lúc " + _VI_DUE + ".",
        "Dossier {{ dossier_code }} due soon",
        "{{ timer_label }} of dossier {{ dossier_code }} ends at " + _EN_DUE + ".",
    ),
    ("sla.overdue", "in_app"): (
        "Hồ sơ {{ dossier_code }} đã quá hạn",
        "{{ timer_label }} của hồ sơ {{ dossier_code }} đã hết lúc " + _VI_DUE + ".",
        "Dossier {{ dossier_code }} overdue",
        "{{ timer_label }} of dossier {{ dossier_code }} ended at " + _EN_DUE + ".",
    ),
    # --- leaders, by email ----------------------------------------------------------------------------
    ("sla.overdue", "email"): (
        "[Quá hạn] Hồ sơ {{ dossier_code }} – {{ unit_name }}",
        "Kính gửi lãnh đạo {{ unit_name }},\n\n"
        "{{ timer_label }} của hồ sơ {{ dossier_code }} ({{ procedure_name }}) đã hết lúc " + _VI_DUE + ".\n"
        "Đề nghị chỉ đạo giải quyết và, nếu cần, ban hành văn bản xin lỗi, hẹn lại ngày trả kết quả.\n\n"
        "(Thư gửi tự động từ hệ thống Một Cửa.)",
        "[Overdue] Dossier {{ dossier_code }} – {{ unit_name }}",
        "To the leaders of {{ unit_name }},\n\n"
        "{{ timer_label }} of dossier {{ dossier_code }} ({{ procedure_name }}) ended at " + _EN_DUE + ".\n"
        "Please see that it is resolved and, if needed, that an apology with a new appointment is issued.\n\n"
        "(Sent automatically by Một Cửa.)",
    ),
}


DEFAULTS: tuple[DefaultTemplate, ...] = tuple(
    template
    for (event_type, channel), (vi_subject, vi_body, en_subject, en_body) in _TEXTS.items()
    for template in (
        DefaultTemplate(event_type, channel, "vi", vi_subject, vi_body),
        DefaultTemplate(event_type, channel, "en", en_subject, en_body),
    )
)


def default_for(event_type: str, channel: str, locale: str) -> DefaultTemplate | None:
    return _BY_KEY.get((event_type, channel, locale))


_BY_KEY = {(t.event_type, t.channel, t.locale): t for t in DEFAULTS}


# --- sample data for previews: the longest values the real context can hold ----------------------------

_BASE: dict[str, Any] = {
    "dossier_code": "000.00.31.H26-261123-0001",
    "status": "received",
    "procedure_name": "Đăng ký khai sinh",
    "agency_name": "UBND phường Hồng Bàng",
    "received_at": datetime(2026, 11, 23, 9, 30, tzinfo=VN_TZ),
    "due_at": datetime(2026, 11, 27, 17, 0, tzinfo=VN_TZ),
    "return_method": "counter",
    # the citizen's tracking page of the dossier: the code only, never the secret nor any personal data
    "tracking_url": "https://dichvucong.haiphong.gov.vn/tra-cuu/000.00.31.H26-261123-0001",
}
_EXTRA: dict[str, dict[str, Any]] = {
    "dossier.refused": {"reasons": ["Thiếu tờ khai theo mẫu", "Giấy tờ không còn hiệu lực"]},
    "dossier.stopped": {"reasons": ["Người yêu cầu không đủ điều kiện theo quy định"]},
    "dossier.supplement_requested": {
        "items": [{"document": "Giấy chứng sinh", "reason": "Bản chụp không rõ, đề nghị nộp bản chính"}]
    },
    "payment.requested": {"amount_vnd": 1_500_000, "reference": "MC-0123456789ABCDEF"},
    "payment.paid": {"amount_vnd": 1_500_000, "reference": "MC-0123456789ABCDEF"},
    "dossier.resolved": {"outcome": "on_time"},
    "dossier.apology_issued": {
        "legal_due_at": datetime(2026, 11, 27, 17, 0, tzinfo=VN_TZ),
        "appointment_at": datetime(2026, 12, 2, 16, 30, tzinfo=VN_TZ),
    },
    "dossier.returned": {"tracking_number": "EB000000002VN"},
    "dossier.result_added": {"status": "resolved", "return_method": "online", "files": 2},
    "dossier.delivery_failed": {
        "tracking_number": "EB000000002VN",
        "attempt": 2,
        "reason_code": "recipient_unreachable",
        "final_attempt": True,
    },
    "dossier.postal_returned": {"tracking_number": "EB000000002VN", "failed_attempts": 3},
    "dossier.redelivery_requested": {"previous_tracking_number": "EB000000002VN", "return_method": "postal"},
    "dossier.pickup_cancelled": {"tracking_number": "EB000000001VN", "reason_code": "cancelled_by_applicant"},
    "dossier.sent_back": {"reason": "Cần xác minh lại thông tin nơi cư trú"},
    "dossier.forwarded": {"step_position": 3},
    "dossier.routed": {"step_position": 2},
    "dossier.transferred": {"step_position": 3},
    "feedback.received": {"rating": "satisfied"},
    "sla.due_soon": {"timer": "step", "step_position": 2, "unit_name": "Văn phòng Đăng ký đất đai"},
    "sla.overdue": {"timer": "dossier", "step_position": 2, "unit_name": "Văn phòng Đăng ký đất đai"},
}
_COMPLAINT: dict[str, Any] = {
    "complaint_code": "PAKN-261123-0001",
    "complaint_kind": "complaint",
    "complaint_subject": "Hồ sơ trễ hẹn",
    "answer": "Hồ sơ của ông/bà đã được giải quyết ngày 25/11/2026; chúng tôi xin lỗi vì sự chậm trễ.",
}


def sample_context(event_type: str) -> dict[str, Any]:
    """Data shaped like the real context of ``event_type``, for previews and validation."""
    if event_type.startswith("complaint."):
        return {"agency_name": _BASE["agency_name"], **_COMPLAINT}
    return {**_BASE, **_EXTRA.get(event_type, {})}
