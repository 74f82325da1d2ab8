"""The demo campaign, shaped like the Ninh Giang plan (seed 001): 20 communes × 60 citizens,
30 HĐND delegates, 3 UBND leaders, 3 MTTQ leaders, 12 department leaders: 1248 in all.

The commune names are for demonstration only; the frame sizes are invented.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from questionnaires import BUILTIN_DIR

from ..campaigns.services import campaign_by_key, ensure_collection_points, store_questionnaire_file
from ..models import Campaign, CampaignStatus, GroupMode, Quota, QuotaFullPolicy, RespondentGroup, Role, User
from ..setup.units import apply_changes, plan_changes, read_unit_file

RULES_FILE = BUILTIN_DIR.parent / "rules" / "ninh_giang_2023.yaml"
DEMO_KEY = "ninh-giang-2023"
DEMO_UNITS = Path(__file__).parent / "units.csv"
DISTRICT = "HDG-NGG"
ADMIN = "admin"

#: (code, name, questionnaire file, mode, quota, quota unit: "communes" or "district")
GROUPS = [
    ("citizen", "Người dân, tổ chức tại Bộ phận một cửa", "citizen_counter", GroupMode.COUNTER, 60, "communes"),
    ("hdnd", "Đại biểu HĐND huyện", "council_delegate", GroupMode.INVITATION, 30, "district"),
    ("ubnd", "Lãnh đạo UBND huyện", "leader", GroupMode.INVITATION, 3, "district"),
    ("mttq", "Lãnh đạo Ủy ban MTTQ huyện", "leader", GroupMode.INVITATION, 3, "district"),
    ("dept", "Lãnh đạo các cơ quan chuyên môn thuộc huyện", "leader", GroupMode.INVITATION, 12, "district"),
]


@dataclass(frozen=True)
class DemoResult:
    campaign_key: str
    admin_username: str
    admin_password: str
    created: bool


def load_demo(s: Session) -> DemoResult:
    """Load the demo campaign (idempotent: a second run changes nothing but the admin password)."""
    # the demo district is loaded like any province's unit list
    rows = read_unit_file(DEMO_UNITS.read_bytes(), DEMO_UNITS.name)
    units = apply_changes(s, rows, plan_changes(s, rows, DEMO_UNITS.name))
    district = units[DISTRICT]
    communes = sorted((u for u in units.values() if u.parent_id == district.id), key=lambda u: u.code)

    campaign = campaign_by_key(s, DEMO_KEY)
    created = campaign is None
    if created:
        campaign = Campaign(
            key=DEMO_KEY,
            year=2023,
            name="Điều tra xã hội học xác định Chỉ số CCHC cấp xã năm 2023 (dữ liệu mẫu)",
            scope_unit=district,
            status=CampaignStatus.OPEN,
            anonymous=True,
            quota_full_policy=QuotaFullPolicy.STOP,
            starts_on=date(2023, 12, 1),
            ends_on=date(2023, 12, 31),
            scoring_rules=RULES_FILE.read_text(encoding="utf-8"),
        )
        s.add(campaign)
        s.flush()
        for position, (code, name, qfile, mode, target, where) in enumerate(GROUPS):
            version = store_questionnaire_file(s, BUILTIN_DIR / f"{qfile}.yaml")
            group = RespondentGroup(
                campaign_id=campaign.id,
                code=code,
                name=name,
                position=position,
                questionnaire_version_id=version.id,
                mode=mode,
            )
            if mode == GroupMode.INVITATION:
                group.rated_units = list(communes)
            s.add(group)
            s.flush()
            quota_units = communes if where == "communes" else [district]
            s.add_all(Quota(group_id=group.id, unit_id=u.id, target=target, received=0) for u in quota_units)
            if mode == GroupMode.COUNTER:
                ensure_collection_points(s, group, communes)
        s.flush()

    password = secrets.token_urlsafe(9)
    admin = s.scalar(select(User).where(User.username == ADMIN))
    if admin is None:
        admin = User(username=ADMIN, full_name="Quản trị Phòng Nội vụ (dữ liệu mẫu)", role=Role.ADMIN, password_hash="")
        s.add(admin)
    admin.set_password(password)
    s.flush()
    return DemoResult(DEMO_KEY, ADMIN, password, created)
