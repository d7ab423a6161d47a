"""Plain helpers shared by the test layers: the demo catalog's items, request bodies, headers.

Fixtures live in the conftest modules and may use these; tests import these directly.
"""

import re
from contextlib import contextmanager
from datetime import date, datetime, time

from sqlalchemy import select, text, update

from windowsvc import clock
from windowsvc.extensions import db
from windowsvc.models import Application, Event

APPEND_ONLY = ("events", "audit_checkpoints")  # the tables whose triggers refuse UPDATE/DELETE

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


@contextmanager
def tampering(app):
    """A raw connection with the append-only triggers out of the way for this transaction only
    (what someone with write access to the database could do)."""
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for table in APPEND_ONLY:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            yield conn
            for table in APPEND_ONLY:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        else:
            triggers = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name, _sql in triggers:
                conn.execute(text(f"DROP TRIGGER {name}"))
            yield conn
            for _name, sql in triggers:
                conn.execute(text(sql))


def forge_event(app, number, seq, details):
    """Overwrite the details of a case's event ``seq`` behind the engine's back."""
    with tampering(app) as conn:
        case = conn.scalar(select(Application.id).where(Application.number == number))
        conn.execute(
            update(Event)
            .where(Event.application_id == case, Event.seq == seq)
            .values(details=details)
        )


CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's form carries."""
    return CSRF_TOKEN.search(html).group(1)


def signed_in_client(app, username, password):
    """A test client signed in through the sign-in form, as a browser does (with its token)."""
    client = app.test_client()
    token = csrf_of(client.get("/signin").get_data(as_text=True))
    answer = client.post(
        "/signin", data={"username": username, "password": password, "csrf_token": token}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client
