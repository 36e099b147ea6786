"""The statistics as files: the indicators as CSV (for Excel, with a byte-order mark) and a workbook
with the indicators, the steps per unit and per officer, the overdue list and the request.

An export leaves the system with officers' names and overdue dossiers, so ``export`` audits who took
which, and when (the request's query, the period)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.calendar.working import VN_TZ
from services.core.audit import Origin, audit_entry, record
from services.core.auth import Actor
from services.stats.overdue import overdue_dossiers
from services.stats.queries import compute_stats
from services.stats.schemas import Indicators, OverdueList, Stats
from services.stats.scope import StatsQuery

EXPORT_ROWS = 5000  # the overdue dossiers a workbook lists at most

INDICATOR_COLUMNS: tuple[tuple[str, str], ...] = (
    ("received", "Số hồ sơ tiếp nhận"),
    ("resolved_early", "Giải quyết trước hạn"),
    ("resolved_on_time", "Giải quyết đúng hạn"),
    ("resolved_late", "Giải quyết quá hạn"),
    ("pending_on_time", "Đang giải quyết trong hạn"),
    ("pending_overdue", "Đang giải quyết quá hạn"),
    ("refused", "Từ chối tiếp nhận"),
    ("withdrawn", "Công dân rút hồ sơ"),
    ("stopped", "Dừng xử lý"),
    ("on_time_rate", "Tỷ lệ đúng hạn (%)"),
    ("overdue_rate", "Tỷ lệ quá hạn (%)"),
    ("average_resolution_days", "Thời gian giải quyết trung bình (ngày)"),
    ("online_rate", "Tỷ lệ hồ sơ trực tuyến (%)"),
    ("online_payment_rate", "Tỷ lệ thanh toán trực tuyến (%)"),
    ("digitised_rate", "Tỷ lệ số hóa (%)"),
    ("complaint_rate", "Tỷ lệ phản ánh, không hài lòng (%)"),
    ("satisfaction_rate", "Mức độ hài lòng (%)"),
    ("measured", "Số hồ sơ đo thời gian làm việc"),
    ("average_working_days", "Thời gian giải quyết trung bình (ngày làm việc)"),
    ("average_limit_days", "Thời hạn theo quy định trung bình (ngày làm việc)"),
    ("time_used_percent", "Thời gian sử dụng so với thời hạn, trung bình (%)"),
    ("time_used_median_percent", "Thời gian sử dụng so với thời hạn, trung vị (%)"),
    ("under_half_limit_rate", "Giải quyết dưới một nửa thời hạn (%)"),
    ("time_saved_percent", "Thời gian cắt giảm so với quy định (%)"),
)
INDICATOR_HEADER = ("Nhóm", "Mã", "Tên", *(title for _, title in INDICATOR_COLUMNS))
UNIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("steps", "Số bước xử lý"),
    ("steps_early", "Trước hạn"),
    ("steps_on_time", "Đúng hạn"),
    ("steps_late", "Quá hạn"),
    ("steps_open_on_time", "Đang xử lý trong hạn"),
    ("steps_open_overdue", "Đang xử lý quá hạn"),
    ("on_time_rate", "Tỷ lệ đúng hạn (%)"),
)
OVERDUE_HEADER = (
    "Mã hồ sơ",
    "Thủ tục",
    "Cơ quan tiếp nhận",
    "Đơn vị đang xử lý",
    "Cán bộ xử lý",
    "Ngày tiếp nhận",
    "Hạn giải quyết",
    "Số ngày quá hạn",
    "Quá hạn do bổ sung lần hai",
)


def indicator_rows(stats: Stats) -> list[list[Any]]:
    """The indicators table: the total, then each month, procedure, receiving agency, level and field."""

    def line(group: str, code: str, name: str, values: Indicators) -> list[Any]:
        return [group, code, name, *(getattr(values, key) for key, _ in INDICATOR_COLUMNS)]

    rows = [line("Tổng cộng", "", f"Từ {stats.date_from:%d/%m/%Y} đến {stats.date_to:%d/%m/%Y}", stats)]
    rows += [line("Tháng", m.month, f"Tháng {m.month[5:]}/{m.month[:4]}", m) for m in stats.by_month]
    rows += [line("Thủ tục", p.procedure_code, p.procedure_name, p) for p in stats.by_procedure]
    rows += [line("Cơ quan tiếp nhận", a.agency_code, a.agency_name, a) for a in stats.by_agency]
    rows += [line("Cấp giải quyết", v.level, v.level_name_vi, v) for v in stats.by_level]
    rows += [line("Lĩnh vực", "", f.field, f) for f in stats.by_field]
    return rows


def to_csv(stats: Stats) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows the Vietnamese headers right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(INDICATOR_HEADER)
    for row in indicator_rows(stats):
        writer.writerow(["" if value is None else value for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(stats: Stats, overdue: OverdueList) -> bytes:
    """A workbook: indicators, steps per unit, steps per officer, the overdue list, and the request."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, first: bool = False) -> None:
        ws = workbook.active if first else workbook.create_sheet()
        assert ws is not None
        ws.title = title
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(list(row))
        ws.freeze_panes = "A2"

    sheet("Chỉ tiêu", INDICATOR_HEADER, indicator_rows(stats), first=True)
    sheet(
        "Đơn vị xử lý",
        ("Mã đơn vị", "Tên đơn vị", *(title for _, title in UNIT_COLUMNS)),
        ([u.agency_code, u.agency_name, *(getattr(u, key) for key, _ in UNIT_COLUMNS)] for u in stats.by_unit),
    )
    sheet(
        "Cán bộ",
        ("Tài khoản", "Họ và tên", *(title for _, title in UNIT_COLUMNS)),
        ([o.username, o.full_name, *(getattr(o, key) for key, _ in UNIT_COLUMNS)] for o in stats.by_officer),
    )

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(VN_TZ).replace(tzinfo=None) if moment else None  # Excel has no time zones

    sheet(
        "Hồ sơ quá hạn",
        OVERDUE_HEADER,
        (
            [
                d.code,
                f"{d.procedure_code} — {d.procedure_name}",
                d.receiving_agency_code,
                d.responsible_unit_code,
                d.assignee,
                local(d.received_at),
                local(d.due_at),
                d.late_by_days,
                "Có" if d.late_by_rule else "",
            ]
            for d in overdue.items
        ),
    )
    sheet(
        "Thông tin",
        ("Tham số", "Giá trị"),
        [
            ("Từ ngày", stats.date_from.isoformat()),
            ("Đến ngày", stats.date_to.isoformat()),
            ("Cơ quan", stats.agency or "Tất cả"),
            ("Gồm đơn vị trực thuộc", "Có" if stats.include_children else "Không"),
            ("Lĩnh vực", stats.field or "Tất cả"),
            ("Thủ tục", stats.procedure or "Tất cả"),
            ("Cán bộ", stats.officer or "Tất cả"),
            ("Số liệu tại thời điểm", local(stats.as_of)),
            ("Hồ sơ quá hạn (tổng số)", overdue.total),
        ],
    )
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


async def export(
    session: AsyncSession, query: StatsQuery, *, kind: Literal["xlsx", "csv"], actor: Actor, origin: Origin,
    request_query: str,
) -> bytes:  # fmt: skip
    """The workbook (``xlsx``: indicators, units, officers and the overdue list) or the indicators as CSV;
    audited with the request's query string (``request_query``) and the period."""
    stats = await compute_stats(session, query)
    body = (
        to_xlsx(stats, await overdue_dossiers(session, query, limit=EXPORT_ROWS)) if kind == "xlsx" else to_csv(stats)
    )
    entry = audit_entry(
        service="workflow", action="export", resource=origin.route, origin=origin, actor=actor,
        detail={"query": request_query[:500], "from": str(query.start), "to": str(query.end)},
    )  # fmt: skip
    record(session, entry)
    return body
