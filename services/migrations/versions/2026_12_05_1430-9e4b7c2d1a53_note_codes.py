"""handover.note_code / note_params (the tracking page's notes as codes the SPA translates) and
workflow_step.name_en (a step's English name, when the template gives one)

Existing lines whose note is one of the parameterless sentences get their code; the demo templates'
standard steps get their English names. Anything else keeps showing its Vietnamese text.

Revision ID: 9e4b7c2d1a53
Revises: 5a1c0e7d9b21
Create Date: 2026-12-05 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "9e4b7c2d1a53"
down_revision = "5a1c0e7d9b21"
branch_labels = None
depends_on = None

# frozen copies (a migration never imports application code that may change later)
_NOTE_CODES = {
    "Hồ sơ đã được nộp trực tuyến, chờ cán bộ một cửa kiểm tra.": "submitted_online",
    "Hồ sơ được nộp tại Bộ phận một cửa.": "submitted_at_desk",
    "Công dân rút hồ sơ.": "withdrawn",
    "Đã thực hiện nghĩa vụ tài chính": "paid",
    "Hồ sơ được chuyển đến bộ phận giải quyết.": "routed",
    "Hồ sơ được chuyển sang cơ quan phối hợp giải quyết (liên thông).": "transferred",
    "Hồ sơ đã có kết quả giải quyết, mời nhận kết quả.": "resolved",
    "Đã trả kết quả cho công dân.": "returned",
}
_STEP_NAMES_EN = {
    "Tiếp nhận hồ sơ": "Receive the dossier",
    "Thẩm định, xử lý hồ sơ": "Appraise and handle the dossier",
    "Phê duyệt, ký kết quả": "Approve and sign the result",
    "Trả kết quả": "Return the result",
    "Giải quyết và trả kết quả tại chỗ": "Resolve and return at the desk",
}


def upgrade() -> None:
    op.add_column("handover", sa.Column("note_code", sa.String(length=48), nullable=True))
    op.add_column(
        "handover",
        sa.Column("note_params", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )
    op.add_column("workflow_step", sa.Column("name_en", sa.String(length=300), nullable=True))
    update_note = sa.text("UPDATE handover SET note_code = :code WHERE note_code IS NULL AND public_note = :sentence")
    for sentence, code in _NOTE_CODES.items():
        op.execute(update_note.bindparams(code=code, sentence=sentence))
    update_step = sa.text("UPDATE workflow_step SET name_en = :name_en WHERE name_en IS NULL AND name = :name")
    for name, name_en in _STEP_NAMES_EN.items():
        op.execute(update_step.bindparams(name=name, name_en=name_en))


def downgrade() -> None:
    op.drop_column("workflow_step", "name_en")
    op.drop_column("handover", "note_params")
    op.drop_column("handover", "note_code")
