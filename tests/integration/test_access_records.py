"""行为监控: staff reads of personal data are recorded and visible to oversight."""

from tests.factories import bearer


class TestAccessRecords:
    def test_a_detail_read_is_recorded_and_shown_to_oversight(self, client, tokens, submit):
        number = submit().json["number"]
        client.get(f"/api/v1/applications/{number}", headers=bearer(tokens["supervisor"]))
        records = client.get(
            f"/api/v1/oversight/access?number={number}", headers=bearer(tokens["oversight"])
        ).json
        assert records["total"] == 1
        [entry] = records["items"]
        assert (entry["principal_name"], entry["role"], entry["purpose"]) == (
            "测试supervisor",
            "supervisor",
            "detail",
        )

    def test_a_task_handed_to_a_department_is_recorded(self, client, tokens, submit):
        number = submit().json["number"]
        client.post(
            "/api/v1/tasks/fetch-and-lock",
            json={"worker_id": "w", "max_tasks": 5},
            headers=bearer(tokens["scjg"]),
        )
        items = client.get(
            f"/api/v1/oversight/access?number={number}", headers=bearer(tokens["oversight"])
        ).json["items"]
        assert [(i["role"], i["department"], i["purpose"]) for i in items] == [
            ("backoffice", "scjg", "task")
        ]

    def test_listings_show_masked_personal_data(self, client, tokens, submit):
        submit()
        [item] = client.get("/api/v1/applications", headers=bearer(tokens["window"])).json["items"]
        assert item["applicant"]["name"] == "张*丰"
        assert item["applicant"]["id_number"] == "110105********002X"

    def test_only_oversight_reads_the_access_records(self, client, tokens):
        response = client.get("/api/v1/oversight/access", headers=bearer(tokens["window"]))
        assert response.status_code == 403


class TestNotices:
    def test_notices_carry_their_delivery_status(self, app, client, tokens, submit, tmp_path):
        from windowsvc.adapters.push import LogNotifier
        from windowsvc.services.queue import dispatch

        number = submit().json["number"]
        pending = client.get(
            f"/api/v1/applications/{number}/notices", headers=bearer(tokens["window"])
        ).json
        assert [(n["title"], n["state"]) for n in pending] == [
            ("收件回执", "pending"),
            ("受理通知书", "pending"),
        ]
        with app.app_context():
            dispatch.deliver_outbox({"notice": LogNotifier(tmp_path / "n.jsonl")})
        notices = client.get(
            f"/api/v1/applications/{number}/notices", headers=bearer(tokens["window"])
        ).json
        assert {n["state"] for n in notices} == {"sent"} and all(n["sent_at"] for n in notices)


def test_what_a_detail_read_shows_is_what_its_transaction_read(app, tokens, submit):
    """The case returned by read_for_staff keeps what was read beside the access record: no
    later reload in another transaction (one an action could have changed meanwhile)."""
    from sqlalchemy import event, inspect

    from windowsvc.extensions import db
    from windowsvc.services.admin import credentials
    from windowsvc.services.cases import applications

    number = submit().json["number"]
    with app.app_context():
        principal = credentials.authenticate(tokens["window"])
        application = applications.read_for_staff(number, principal)
        assert not inspect(application).expired
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        assert application.applicant["name"] and application.version >= 1
        assert [s for s in statements if "FROM applications" in s] == []
