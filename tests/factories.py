"""Plain helpers shared by the test layers: the demo catalog's items, request bodies, headers.

Fixtures live in the conftest modules and may use these; tests import these directly.
"""

from datetime import date, datetime, time

from windowsvc import clock

FOOD = "330100-XK-SCJG-0012"  # 食品经营许可证核发 (scjg, single, promised 5, legal 20)
FOOD_REQUIRED = [
    "food_licence_application",
    "business_licence",
    "legal_representative_id",
    "premises_floor_plan",
    "food_process_layout",
    "food_safety_rules",
    "staff_health_certificates",
]
INSTANT = "330100-GG-RSJ-0021"  # 职工参保登记 (rsj, 即办件)
INSTANT_REQUIRED = ["employee_enrolment_form", "employee_id", "labour_contract"]
PARALLEL = "330100-XK-ZJJ-0031"  # 建设工程竣工联合验收 (zjj + zrzy + xfjy)
PARALLEL_REQUIRED = [
    "joint_acceptance_application",
    "business_licence",
    "construction_permit",
    "planning_permit",
    "completion_acceptance_report",
    "completion_survey_report",
    "fire_inspection_report",
    "as_built_drawings",
    "archives_pre_acceptance",
]


def bearer(token):
    """Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def applicant(**overrides):
    """A person applicant with a valid resident ID number."""
    return {
        "type": "person",
        "name": "张三丰",
        "id_type": "resident_id",
        "id_number": "11010519491231002X",
        "phone": "13812345678",
        **overrides,
    }


def intake_body(item=FOOD, channel="window", materials=None, **extra):
    """An intake request; by default complete for the food licence."""
    codes = FOOD_REQUIRED if materials is None else materials
    return {
        "item_code": item,
        "channel": channel,
        "applicant": applicant(),
        "materials": [{"code": c} for c in codes],
        **extra,
    }


def staff_view(client, token, number):
    """The staff view of a case (GET /api/v1/applications/{number}) as the given principal."""
    return client.get(f"/api/v1/applications/{number}", headers=bearer(token)).json


def move_to(frozen_clock, day: date, hour: int = 10) -> None:
    """Move the frozen clock to ``hour`` o'clock Asia/Shanghai time on ``day``."""
    frozen_clock.moment = datetime.combine(day, time(hour), tzinfo=clock.SHANGHAI)
