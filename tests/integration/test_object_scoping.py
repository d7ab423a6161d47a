"""BOLA matrix: every endpoint that takes an object × every principal × another party's object.

The expected answers are the contract's (DESIGN.md §3), spelled out here, not computed by the rule
under test: no token 401; a role the endpoint does not admit 403; an object of another
department — or any case a department has no step in yet — 404, exactly like one that does not
exist. A second table checks the same principals on their own objects get past the scoping, so
that every 404 of the first table is the scoping's and not a broken request's.
"""

from dataclasses import dataclass, field

import pytest

from tests.factories import FOOD_REQUIRED, PARALLEL, PARALLEL_REQUIRED, bearer, intake_body

pytestmark = pytest.mark.usefixtures("frozen_clock")

ANONYMOUS = "no token"
PUBLIC = "public"
PRINCIPALS = {  # name: (role, department)
    "window": ("window", None),
    "oversight": ("oversight", None),
    "admin": ("admin", None),
    "supervisor:scjg": ("supervisor", "scjg"),
    "supervisor:zjj": ("supervisor", "zjj"),
    "supervisor:rsj": ("supervisor", "rsj"),
    "backoffice:scjg": ("backoffice", "scjg"),
    "backoffice:zjj": ("backoffice", "zjj"),
    "backoffice:gaj": ("backoffice", "gaj"),
}
UNCONFINED = {"window", "oversight", "admin"}
# Objects of the world below, and which department principals handle each (the contract: a case
# with a step of the department, the department's task, the department's work order).
CASES = {
    "food in progress": "scjg step",
    "joint acceptance in progress": "zjj, zrzy and xfjy steps",
    "food submitted online": "no step yet (the item is scjg's)",
    "food in correction": "no step yet (the item is scjg's)",
}
TASKS = {"food step": "scjg", "joint acceptance zjj step": "zjj"}
ORDERS = {"food work order": "scjg", "joint acceptance work order": "zjj"}
HANDLES = {
    "supervisor:scjg": {"food in progress", "food step", "food work order"},
    "supervisor:zjj": {
        "joint acceptance in progress",
        "joint acceptance zjj step",
        "joint acceptance work order",
    },
    "supervisor:rsj": set(),
    "backoffice:scjg": {"food in progress", "food step"},
    "backoffice:zjj": {"joint acceptance in progress", "joint acceptance zjj step"},
    "backoffice:gaj": set(),
}
CASE_READERS = ("window", "supervisor", "oversight")
IF_MATCH = {"If-Match": '"999"'}  # a stale version: an action that gets past the scoping is 412
CASE_ACTIONS = {  # action: (roles, a valid body)
    "accept": (("window",), {}),
    "request_correction": (("window",), {"missing": ["business_licence"], "note": "缺"}),
    "supplement": (("window",), {"materials": ["business_licence"]}),
    "refuse": (("window",), {"reason": "不符合受理条件", "rights_notice": "可申请复议"}),
    "suspend": (
        ("window", "supervisor"),
        {"reason": "听证", "kind": "hearing", "expected_days": 5},
    ),
    "resume": (("window", "supervisor"), {"result": "听证结束"}),
    "extend": (("supervisor",), {"days": 5, "reason": "情况复杂", "approver": "局长"}),
    "withdraw": (("window",), {"reason": "申请人撤回"}),
    "deliver": (("window",), {"method": "window"}),
    "archive": (("window",), {}),
}
WORKER = {"worker_id": "someone-else"}  # holds no lease: past the scoping a call is 409
TASK_CALLS = {  # path suffix: (roles, body)
    "complete": (("backoffice",), {**WORKER, "outcome": "approve"}),
    "failure": (("backoffice",), {**WORKER, "error_message": "超时", "retries": 1}),
    "extend-lock": (("backoffice",), {**WORKER, "lock_seconds": 60}),
    "unlock": (("backoffice",), WORKER),
    "retries": (("supervisor", "admin"), {"retries": 1}),
}
CAMUNDA_CALLS = {
    "complete": {"workerId": "someone-else"},
    "failure": {"workerId": "someone-else", "retries": 1, "errorMessage": "超时"},
    "bpmnError": {"workerId": "someone-else", "errorCode": "DENY", "errorMessage": "不符合"},
    "extendLock": {"workerId": "someone-else", "newDuration": 60000},
    "unlock": {},
}
ORDER_ACTIONS = {
    "follow_up": (
        ("supervisor",),
        {"contacted_at": "2026-03-02T09:30:00+08:00", "summary": "回访"},
    ),
    "rectify": (("supervisor",), {"measures": "加强培训"}),
    "explain": (("supervisor",), {"explanation": "依法办理"}),
    "close": (("supervisor",), {}),
    "appeal": (("supervisor",), {"reason": "评价与事实不符"}),
    "decide_appeal": (("oversight",), {"upheld": True, "reason": "申诉成立"}),
}


@dataclass(frozen=True)
class Endpoint:
    """One endpoint that takes an object: who may call it and a body it accepts."""

    name: str
    method: str
    path: str  # "{id}" is the object
    kind: str  # case, task, order or rating
    roles: tuple
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    problem_type: str = "application/problem+json"

    def handled(self, principal: str, obj: str) -> bool:
        """Whether the principal handles the object for this endpoint (the contract)."""
        role = PRINCIPALS[principal][0]
        if principal in UNCONFINED:
            return True
        if role == "supervisor" and self.kind == "case" and self.method == "GET":
            return True  # a supervisor reads any case
        return obj in HANDLES[principal]


ENDPOINTS = [
    Endpoint(
        "application detail",
        "GET",
        "/api/v1/applications/{id}",
        "case",
        (*CASE_READERS, "backoffice"),
    ),
    Endpoint("application events", "GET", "/api/v1/applications/{id}/events", "case", CASE_READERS),
    Endpoint(
        "application notices", "GET", "/api/v1/applications/{id}/notices", "case", CASE_READERS
    ),
    *(
        Endpoint(
            f"action {a}",
            "POST",
            f"/api/v1/applications/{{id}}/actions/{a}",
            "case",
            roles,
            body,
            IF_MATCH,
        )
        for a, (roles, body) in CASE_ACTIONS.items()
    ),
    *(
        Endpoint(f"task {c}", "POST", f"/api/v1/tasks/{{id}}/{c}", "task", roles, body)
        for c, (roles, body) in TASK_CALLS.items()
    ),
    *(
        Endpoint(
            f"camunda {c}",
            "POST",
            f"/engine-rest/external-task/{{id}}/{c}",
            "task",
            ("backoffice",),
            body,
            problem_type="application/json",
        )
        for c, body in CAMUNDA_CALLS.items()
    ),
    Endpoint(
        "work order detail",
        "GET",
        "/api/v1/rectifications/{id}",
        "order",
        ("supervisor", "oversight", "admin"),
    ),
    *(
        Endpoint(
            f"work order {a}",
            "POST",
            f"/api/v1/rectifications/{{id}}/actions/{a}",
            "order",
            roles,
            body,
        )
        for a, (roles, body) in ORDER_ACTIONS.items()
    ),
]
OBJECTS = {"case": CASES, "task": TASKS, "order": ORDERS}


@pytest.fixture
def world(app, client, tokens, submit, act, conclude, rate):
    """The objects of the matrix, each principal's token, and two rated cases with work orders."""
    from windowsvc.db import write_transaction
    from windowsvc.models import Application
    from windowsvc.services.admin import credentials

    with app.app_context():
        extra = {
            "supervisor:zjj": credentials.create("supervisor", "住建局主管", "zjj")[1],
            "supervisor:rsj": credentials.create("supervisor", "人社局主管", "rsj")[1],
        }
    tokens_of = {
        "window": tokens["window"],
        "oversight": tokens["oversight"],
        "admin": tokens["admin"],
        "supervisor:scjg": tokens["supervisor"],
        "backoffice:scjg": tokens["scjg"],
        "backoffice:zjj": tokens["zjj"],
        "backoffice:gaj": tokens["gaj"],
        **extra,
    }
    joint = intake_body(PARALLEL, materials=PARALLEL_REQUIRED)
    numbers = {
        "food in progress": submit().json["number"],
        "joint acceptance in progress": submit(joint).json["number"],
        "food submitted online": submit(intake_body(channel="online")).json["number"],
        "food in correction": submit(intake_body(materials=FOOD_REQUIRED[:2])).json["number"],
    }
    rated = {}
    for order, body in (("food work order", None), ("joint acceptance work order", joint)):
        number, code = conclude(body)
        rating = rate(number, code, 1, ["attitude"], "态度生硬")
        assert rating.status_code == 201, rating.json
        rated[order] = (number, code, rating.json["id"], rating.json["rectification"]["id"])
    with app.app_context(), write_transaction() as session:
        steps = {}
        for name, number in numbers.items():
            application = session.query(Application).filter_by(number=number).one()
            steps.update({(name, s.department): s for s in application.steps})
        ids = {
            "food step": steps["food in progress", "scjg"].id,
            "joint acceptance zjj step": steps["joint acceptance in progress", "zjj"].id,
        }
        incident = steps["joint acceptance in progress", "zrzy"]
        incident.state, incident.retries = "incident", 0
        incident_id = incident.id
    states = {
        name: client.get(f"/api/v1/applications/{n}", headers=bearer(tokens["window"]))
        for name, n in numbers.items()
    }
    assert [s.json["state"] for s in states.values()] == [
        "in_progress",
        "in_progress",
        "submitted",
        "correction",
    ]
    objects = {
        **numbers,
        **{k: str(v) for k, v in ids.items()},
        **{k: str(v[3]) for k, v in rated.items()},
    }
    return {"tokens": tokens_of, "objects": objects, "rated": rated, "incident": incident_id}


def call(client, endpoint, obj_id, token):
    """One request of the matrix."""
    headers = {**endpoint.headers, **(bearer(token) if token else {})}
    return client.open(
        endpoint.path.format(id=obj_id), method=endpoint.method, json=endpoint.body, headers=headers
    )


def expected(endpoint, principal, obj):
    """The contract's answer to a principal calling the endpoint on another party's object."""
    if principal == ANONYMOUS:
        return 401
    if PRINCIPALS[principal][0] not in endpoint.roles:
        return 403
    return None if endpoint.handled(principal, obj) else 404


class TestAnotherPartysObject:
    def test_every_object_endpoint_answers_exactly_401_403_or_404_as_the_contract_says(
        self, app, client, world
    ):
        from windowsvc.platform import throttle

        cells, wrong = 0, []
        for endpoint in ENDPOINTS:
            for principal in (ANONYMOUS, *PRINCIPALS):
                for obj in OBJECTS[endpoint.kind]:
                    status = expected(endpoint, principal, obj)
                    if status is None:
                        continue  # the principal's own object: see the table below
                    token = world["tokens"].get(principal)
                    response = call(client, endpoint, world["objects"][obj], token)
                    cells += 1
                    if response.status_code != status or not response.content_type.startswith(
                        endpoint.problem_type
                    ):
                        wrong.append((endpoint.name, principal, obj, status, response.status_code))

        # 整改评价 is public: the rater's own number and code with another case's rating id
        rated = world["rated"]
        for mine, theirs in (tuple(rated), tuple(reversed(rated))):
            number, code, _rating, _order = rated[mine]
            for principal in (ANONYMOUS, *PRINCIPALS):  # a token changes nothing
                with app.app_context():
                    throttle.reset()  # the matrix repeats failures the throttle would stop
                token = world["tokens"].get(principal)
                response = client.post(
                    f"/api/v1/ratings/{rated[theirs][2]}/rectification-rating",
                    json={"number": number, "query_code": code, "level": "satisfied"},
                    headers=bearer(token) if token else {},
                )
                cells += 1
                if response.status_code != 404:
                    wrong.append(
                        ("rectification-rating", principal, theirs, 404, response.status_code)
                    )

        # incidents: a listing; another department's incident is simply not in it
        for principal in (ANONYMOUS, *PRINCIPALS):
            token = world["tokens"].get(principal)
            response = client.get("/api/v1/incidents", headers=bearer(token) if token else {})
            role = PRINCIPALS.get(principal, (None,))[0]
            cells += 1
            if principal == ANONYMOUS:
                want = 401
            elif role not in ("supervisor", "oversight", "admin"):
                want = 403
            else:
                want = 200
            listed = [str(i["id"]) for i in response.json] if response.status_code == 200 else []
            shown = str(world["incident"]) in listed
            if response.status_code != want or shown != (principal in ("oversight", "admin")):
                wrong.append(
                    ("incidents", principal, "zrzy incident", want, response.status_code, shown)
                )

        print(f"\nBOLA matrix: {cells} cells")
        assert wrong == [], f"{len(wrong)} of {cells} cells differ from the contract: {wrong}"

    def test_the_same_principals_get_past_the_scoping_on_their_own_objects(
        self, app, client, world
    ):
        from windowsvc.platform import throttle

        cells, wrong = 0, []
        for endpoint in ENDPOINTS:
            for principal in PRINCIPALS:
                if PRINCIPALS[principal][0] not in endpoint.roles:
                    continue
                for obj in OBJECTS[endpoint.kind]:
                    if not endpoint.handled(principal, obj):
                        continue
                    response = call(
                        client, endpoint, world["objects"][obj], world["tokens"][principal]
                    )
                    cells += 1
                    if response.status_code in (401, 403, 404):
                        wrong.append((endpoint.name, principal, obj, response.status_code))
        for number, code, rating, _order in world["rated"].values():
            with app.app_context():
                throttle.reset()
            response = client.post(
                f"/api/v1/ratings/{rating}/rectification-rating",
                json={"number": number, "query_code": code, "level": "satisfied"},
            )
            cells += 1
            if response.status_code in (401, 403, 404):
                wrong.append(("rectification-rating", ANONYMOUS, rating, response.status_code))
        print(f"\nown-object controls: {cells} cells")
        assert cells > 0
        assert wrong == [], wrong
