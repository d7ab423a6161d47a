"""A simulated front-desk window: receives demo applications, supplements, delivers, archives."""

import logging
import random
import threading
import uuid

import requests

from ..adapters.evidence import demo_holders

log = logging.getLogger("windowsvc.simulate")
TIMEOUT = 30
PEOPLE = [
    ("11010519491231002X", "张三丰"),
    ("330102199003071230", "王芳"),
    ("330106198505122342", "李娜"),
]
COMPANIES = [("91330100MA2H3X4Y5K", "杭州味道餐饮管理有限公司")]


class SimulatedWindow(threading.Thread):
    """Submits an application every ``interval`` seconds and moves finished cases along."""

    def __init__(self, base_url, token, interval, stop, seed=None):
        super().__init__(name="window", daemon=True)
        self.base_url, self.interval, self.stop = base_url, interval, stop
        self.rng = random.Random(seed)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.holders = demo_holders()
        self.submitted = 0
        self.mine = set()  # the simulated clerk tidies only the cases she received

    def run(self):
        items = requests.get(f"{self.base_url}/api/v1/items", timeout=TIMEOUT).json()
        while not self.stop.is_set():
            try:
                self.submit(self.rng.choice(items))
                self.tidy()
            except requests.RequestException as exc:
                log.warning("window: %s", exc)
            self.stop.wait(self.interval)

    def _applicant(self, item):
        wants_company = any(m.get("evidence") == "business_licence" for m in item["materials"])
        number, name = self.rng.choice(COMPANIES if wants_company else PEOPLE)
        kind = "organization" if wants_company else "person"
        id_type = "uscc" if wants_company else "resident_id"
        return {
            "type": kind,
            "name": name,
            "id_type": id_type,
            "id_number": number,
            "phone": f"13{self.rng.randrange(10**9):09d}",
        }

    def submit(self, item):
        applicant = self._applicant(item)
        held = set(self.holders.get(applicant["id_number"], {}).get("holds", []))
        materials = [
            {"code": m["code"]}
            for m in item["materials"]
            if m["required"] and not (m.get("evidence") and m["evidence"] in held)
        ]
        channel = self.rng.choice(["window", "window", "online", "mobile"])
        body = {
            "item_code": item["code"],
            "channel": channel,
            "applicant": applicant,
            "materials": materials,
            "delivery": {
                "method": self.rng.choice(item["delivery_methods"]),
                "address": "杭州市西湖区文三路 90 号",
            },
        }
        response = self.session.post(
            f"{self.base_url}/api/v1/applications",
            json=body,
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=TIMEOUT,
        )
        if response.status_code == 201:
            self.submitted += 1
            self.mine.add(response.json()["number"])
            log.info(
                "window received %s: %s (%s)",
                response.json()["number"],
                item["name"],
                response.json()["state_label"],
            )
        else:
            log.warning("window: intake answered %s %s", response.status_code, response.text[:200])

    def _act(self, case, action, payload):
        return self.session.post(
            f"{self.base_url}/api/v1/applications/{case['number']}/actions/{action}",
            json=payload,
            headers={"If-Match": f'"{case["version"]}"'},
            timeout=TIMEOUT,
        )

    def _cases(self, state):
        response = self.session.get(
            f"{self.base_url}/api/v1/applications",
            params={"state": state, "per_page": 20},
            timeout=TIMEOUT,
        )
        items = response.json()["items"] if response.ok else []
        return [case for case in items if case["number"] in self.mine]

    def tidy(self):
        """Pre-review online cases, bring missing materials, hand out results, archive."""
        for case in self._cases("submitted"):
            self._act(case, "accept", {})
        for case in self._cases("correction"):
            codes = [m["code"] for m in case["missing_materials"]]
            self._act(case, "supplement", {"materials": codes})
        for case in self._cases("result_ready"):
            method = (case.get("delivery") or {}).get("method", "window")
            payload = {"method": method}
            if method == "express":
                payload["tracking"] = f"SF{self.rng.randrange(10**12):012d}"
            self._act(case, "deliver", payload)
        for state in ("delivered", "not_accepted", "withdrawn"):
            for case in self._cases(state)[:5]:
                self._act(case, "archive", {})
                self.mine.discard(case["number"])
