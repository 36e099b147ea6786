"""Who is who in the demo (DESIGN "Demo data"): agency levels, agencies, roles and staff accounts.

The province is Thành phố Hải Phòng, whose decisions and fee resolutions most records of
``data/procedures.json`` cite. Agency codes follow the national pattern of dossier codes
(``000.<unit>.<agency>.H<province>``, as in ``000.17.22.H56``) but they are DEMO codes: ``H26``
and every number below are made up and are not the real identifiers of Hải Phòng's agencies.

Choices worth knowing:

- The province specialist and head (``chuyenvien``, ``lanhdao``) work at Văn phòng Đăng ký đất
  đai (the land registration office of Sở Nông nghiệp và Môi trường), which resolves four of the
  eight province-level demo procedures, one of them inter-agency (liên thông).
- Police, tax and social insurance are central (vertical) agencies; they hang under the city's
  root only so that the agency tree stays one tree. Liên thông partners named "Công an cấp xã",
  "Thuế cơ sở" or "Đơn vị đo đạc" map to Công an thành phố, Thuế thành phố and Văn phòng Đăng ký
  đất đai (``match_partner``): their internal routing is outside the one-stop system.
- Both ward counter officers (``tiepnhan.xa``, ``tiepnhan.lechan``) hold the delegation role
  ``on_the_spot`` of "4 tại chỗ" (``services.demo.procedures.ON_THE_SPOT_PROCEDURES``).

Plain data only: ``services.demo.seed`` writes the rows, ``services.demo.procedures`` plans the workflows.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.dossier.steps import ON_THE_SPOT_ROLE

DEMO_PASSWORD = "demo"  # noqa: S105 - DESIGN: every demo account's password; loaded only in demo mode
DEMO_EMAIL_DOMAIN = "demo.motcua.vn"

# --- agencies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLevel:
    code: str
    name_vi: str
    name_en: str
    rank: int


DEMO_LEVELS: tuple[DemoLevel, ...] = (
    DemoLevel("province", "Cấp tỉnh (tỉnh, thành phố trực thuộc trung ương)", "Province", 0),
    DemoLevel("department", "Sở, ban, ngành cấp tỉnh", "Provincial department or agency", 1),
    DemoLevel("commune", "Cấp xã (xã, phường, đặc khu)", "Commune, ward or special zone", 1),
    DemoLevel("unit", "Phòng, đơn vị trực thuộc", "Office or unit of an agency", 2),
)


@dataclass(frozen=True)
class DemoAgency:
    key: str
    code: str
    name: str
    level: str
    parent: str | None = None
    one_stop_desk: bool = False
    street_address: str | None = None
    postal_hours: str | None = None


# When the demo desks receive the postman (services.intake.postal): their opening hours on working days
DEMO_POSTAL_HOURS = "Thứ Hai–Thứ Sáu 7:30–11:30, 13:30–17:00"

DEMO_AGENCIES: tuple[DemoAgency, ...] = (
    DemoAgency("province", "000.00.00.H26", "Ủy ban nhân dân thành phố Hải Phòng", "province"),
    DemoAgency(
        "centre",
        "000.00.01.H26",
        "Trung tâm Phục vụ hành chính công thành phố Hải Phòng",
        "department",
        "province",
        one_stop_desk=True,
        street_address="Số 18 Hoàng Diệu, phường Hồng Bàng, thành phố Hải Phòng",
        postal_hours=DEMO_POSTAL_HOURS,
    ),
    DemoAgency("justice", "000.00.02.H26", "Sở Tư pháp thành phố Hải Phòng", "department", "province"),
    DemoAgency(
        "agriculture", "000.00.03.H26", "Sở Nông nghiệp và Môi trường thành phố Hải Phòng", "department", "province"
    ),
    DemoAgency("land_office", "000.01.03.H26", "Văn phòng Đăng ký đất đai thành phố Hải Phòng", "unit", "agriculture"),
    DemoAgency("construction", "000.00.04.H26", "Sở Xây dựng thành phố Hải Phòng", "department", "province"),
    DemoAgency("finance", "000.00.05.H26", "Sở Tài chính thành phố Hải Phòng", "department", "province"),
    DemoAgency("health", "000.00.06.H26", "Sở Y tế thành phố Hải Phòng", "department", "province"),
    DemoAgency("home_affairs", "000.00.07.H26", "Sở Nội vụ thành phố Hải Phòng", "department", "province"),
    DemoAgency("industry_trade", "000.00.08.H26", "Sở Công Thương thành phố Hải Phòng", "department", "province"),
    DemoAgency("tax", "000.00.09.H26", "Thuế thành phố Hải Phòng", "department", "province"),
    DemoAgency("police", "000.00.10.H26", "Công an thành phố Hải Phòng", "department", "province"),
    DemoAgency("social_insurance", "000.00.11.H26", "Bảo hiểm xã hội thành phố Hải Phòng", "department", "province"),
    DemoAgency(
        "ward_hong_bang",
        "000.00.31.H26",
        "Ủy ban nhân dân phường Hồng Bàng",
        "commune",
        "province",
        one_stop_desk=True,
        street_address="Số 1 Hoàng Văn Thụ, phường Hồng Bàng, thành phố Hải Phòng",
        postal_hours=DEMO_POSTAL_HOURS,
    ),
    DemoAgency(
        "ward_le_chan",
        "000.00.32.H26",
        "Ủy ban nhân dân phường Lê Chân",
        "commune",
        "province",
        one_stop_desk=True,
        street_address="Số 2 Hai Bà Trưng, phường Lê Chân, thành phố Hải Phòng",
        postal_hours=DEMO_POSTAL_HOURS,
    ),
)
_AGENCY_BY_KEY = {agency.key: agency for agency in DEMO_AGENCIES}
WARD_KEYS: tuple[str, ...] = ("ward_hong_bang", "ward_le_chan")

# Which department resolves a province-level procedure, by field (lĩnh vực). A field missing here
# stops the load: a new record must be given an owner on purpose, not a guess.
PROVINCE_RESOLVER_BY_FIELD: dict[str, str] = {
    "Hộ tịch": "justice",
    "Chứng thực": "justice",
    # moved to the police in 2025: the record names Công an cấp tỉnh, not Sở Tư pháp
    "Lý lịch tư pháp": "police",
    "Đất đai": "land_office",
    "Xây dựng": "construction",
    "Thành lập và hoạt động doanh nghiệp": "finance",
    "An toàn thực phẩm (Y tế)": "health",
    "An toàn thực phẩm (Công Thương)": "industry_trade",
    "Lao động – Quan hệ lao động": "home_affairs",
    # social protection went from the former Sở LĐTBXH to Sở Y tế in 2025
    "Bảo trợ xã hội": "health",
}

# How the source names partner agencies, matched in this order (``Công an cấp xã`` is police, not
# the ward). "chair" is the chairman signing the result: the approval step.
_PARTNER_PATTERNS: tuple[tuple[str, str], ...] = (
    ("chủ tịch", "chair"),
    ("công an", "police"),
    ("thuế", "tax"),
    ("bảo hiểm xã hội", "social_insurance"),
    ("đăng ký đất đai", "land_office"),
    ("vpđkđđ", "land_office"),
    ("đo đạc", "land_office"),
    ("nông nghiệp và môi trường", "agriculture"),
    ("phục vụ hành chính công", "centre"),
    ("cấp xã", "ward"),
)


def match_partner(text: str) -> str | None:
    """The demo agency key a source's agency wording points to, or None when it names none of ours."""
    folded = text.casefold()
    if folded.startswith("bộ "):  # a ministry's national database, not a local partner
        return None
    for needle, key in _PARTNER_PATTERNS:
        if needle in folded:
            return key
    return None


# --- roles and staff ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoRole:
    code: str
    name_vi: str
    name_en: str


DEMO_ROLES: tuple[DemoRole, ...] = (
    DemoRole("admin", "Quản trị hệ thống", "Administrator"),
    DemoRole("counter", "Cán bộ một cửa (tiếp nhận và trả kết quả)", "Counter officer (intake and return)"),
    DemoRole("specialist", "Chuyên viên xử lý hồ sơ", "Specialist (case handler)"),
    DemoRole("head", "Lãnh đạo phòng, sở (phê duyệt)", "Head of department or office (approver)"),
    DemoRole("leader", "Lãnh đạo cơ quan", "Agency leader (dashboard)"),
    DemoRole("inspector", "Cán bộ thanh tra, giám sát", "Inspector"),
)


@dataclass(frozen=True)
class DemoAccount:
    """A demo login; the password of every demo account is ``demo``."""

    username: str
    full_name: str
    roles: tuple[str, ...]
    agency_code: str
    description: str

    @property
    def email(self) -> str:
        return f"{self.username}@{DEMO_EMAIL_DOMAIN}"


_PROVINCE = _AGENCY_BY_KEY["province"].code
_CENTRE = _AGENCY_BY_KEY["centre"].code
_LAND_OFFICE = _AGENCY_BY_KEY["land_office"].code
_DEMO_WARD = _AGENCY_BY_KEY["ward_hong_bang"].code

_DESK_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "Trần Quốc Khánh", ("admin",), _PROVINCE, "Administrator for the whole city"),
    DemoAccount(
        "tiepnhan",
        "Nguyễn Thị Thu Hà",
        ("counter",),
        _CENTRE,
        "Counter officer (cán bộ một cửa) at the city public administration service centre",
    ),
    DemoAccount(
        "chuyenvien",
        "Phạm Minh Tuấn",
        ("specialist",),
        _LAND_OFFICE,
        "Specialist (chuyên viên) at Văn phòng Đăng ký đất đai, which resolves the city's land procedures",
    ),
    DemoAccount(
        "lanhdao",
        "Vũ Thị Hồng Nhung",
        ("head",),
        _LAND_OFFICE,
        "Head (lãnh đạo) of Văn phòng Đăng ký đất đai: approves the land procedures",
    ),
    DemoAccount(
        "tiepnhan.xa",
        "Lê Thị Mai Anh",
        ("counter", ON_THE_SPOT_ROLE),
        _DEMO_WARD,
        "Counter officer at the one-stop desk of phường Hồng Bàng",
    ),
    DemoAccount(
        "chuyenvien.xa",
        "Hoàng Văn Đức",
        ("specialist",),
        _DEMO_WARD,
        "Specialist (công chức) of phường Hồng Bàng",
    ),
    DemoAccount(
        "lanhdao.xa",
        "Đỗ Quang Huy",
        ("head", "leader"),
        _DEMO_WARD,
        "Chairman of phường Hồng Bàng: approves and sees the dashboard",
    ),
    DemoAccount(
        "tiepnhan.lechan",
        "Phan Thị Thanh Tâm",
        ("counter", ON_THE_SPOT_ROLE),
        _AGENCY_BY_KEY["ward_le_chan"].code,
        "Counter officer at the one-stop desk of phường Lê Chân",
    ),
    DemoAccount(
        "chuyenvien.lechan",
        "Kiều Văn Thắng",
        ("specialist",),
        _AGENCY_BY_KEY["ward_le_chan"].code,
        "Specialist (công chức) of phường Lê Chân",
    ),
    DemoAccount(
        "lanhdao.lechan",
        "Tôn Nữ Minh Thư",
        ("head", "leader"),
        _AGENCY_BY_KEY["ward_le_chan"].code,
        "Chairman of phường Lê Chân",
    ),
)
# a specialist and a head in every department that resolves a procedure or takes a liên thông
# step, so no step of a demo workflow waits for nobody (tests/services/test_demo_seed.py checks it)
_DEPARTMENT_ACCOUNTS: tuple[DemoAccount, ...] = tuple(
    DemoAccount(f"{prefix}.{slug}", name, (role,), _AGENCY_BY_KEY[key].code, f"{what} at {_AGENCY_BY_KEY[key].name}")
    for key, slug, specialist, head in (
        ("justice", "tuphap", "Nguyễn Thị Lan", "Trần Văn Bình"),
        ("construction", "xaydung", "Lê Minh Châu", "Phạm Quốc Dũng"),
        ("finance", "taichinh", "Võ Thị Hạnh", "Bùi Đức Giang"),
        ("health", "yte", "Đặng Thu Hương", "Ngô Văn Khải"),
        ("home_affairs", "noivu", "Đinh Thị Loan", "Hồ Minh Mẫn"),
        ("industry_trade", "congthuong", "Dương Thị Ngọc", "Lý Văn Phúc"),
        ("tax", "thue", "Mai Thị Quyên", "Tạ Văn Sơn"),
        ("police", "congan", "Cao Thị Thảo", "Vương Đình Uy"),
        ("social_insurance", "bhxh", "Trịnh Thị Vân", "Lương Văn Xuân"),
    )
    for prefix, name, role, what in (
        ("chuyenvien", specialist, "specialist", "Specialist"),
        ("lanhdao", head, "head", "Head"),
    )
)
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (*_DESK_ACCOUNTS, *_DEPARTMENT_ACCOUNTS)
