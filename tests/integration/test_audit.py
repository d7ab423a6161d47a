"""The tamper-evident lifecycle record: hash chains, checkpoints, append-only tables, verify."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, exc, func, select, text, update

from tests.factories import bearer, intake_body, tampering
from windowsvc.db import write_transaction
from windowsvc.extensions import db
from windowsvc.models import Application, AuditCheckpoint, Event
from windowsvc.services.cases.records import SYSTEM, record
from windowsvc.services.oversight import audit


@pytest.fixture(autouse=True)
def no_checkpoints_of_other_tests(app):
    """PostgreSQL's session database keeps the checkpoints table between tests: empty it."""

    def empty():
        with app.app_context():
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(text("TRUNCATE audit_checkpoints RESTART IDENTITY"))

    empty()
    yield
    empty()


@pytest.fixture
def cases(submit, act, decide):
    """Three cases with a real history (received, accepted, special procedure, decided...)."""

    def one():
        number = submit(intake_body(channel="online")).json["number"]
        assert act(number, "accept").status_code == 200
        act(number, "suspend", {"reason": "需组织专家评审", "kind": "expert_review"})
        act(number, "resume", {"result": "专家评审通过"})
        decide(number)
        act(number, "deliver", {"method": "window"})
        return number

    return [one() for _ in range(3)]


def verify(app):
    """Run verification in its own app context (so no read transaction outlives it)."""
    with app.app_context():
        return audit.verify()


def take_checkpoint(app):
    with app.app_context():
        return audit.checkpoint().id


def case_id(conn, number):
    return conn.scalar(select(Application.id).where(Application.number == number))


def event_of(conn, number, seq):
    """The ``events`` row of a case's event ``seq``."""
    return conn.execute(
        select(Event.__table__).where(
            Event.application_id == case_id(conn, number), Event.seq == seq
        )
    ).one()


def last_seq(conn, number):
    return conn.scalar(
        select(func.max(Event.seq)).where(Event.application_id == case_id(conn, number))
    )


def only_problem(report):
    """The single problem of a report, as (application, seq, kind)."""
    assert not report["ok"]
    assert len(report["problems"]) == 1, report["problems"]
    (problem,) = report["problems"]
    return problem["application"], problem["seq"], problem["kind"]


class TestACleanRecord:
    def test_a_real_history_verifies(self, app, cases):
        report = verify(app)
        assert report["ok"] and report["problems"] == []
        with app.app_context():
            assert report["checked"] == db.session.scalar(select(func.count()).select_from(Event))
        assert report["checked"] > 3 * 8

    def test_it_still_verifies_after_a_checkpoint_and_more_work(self, app, cases, submit, act):
        take_checkpoint(app)
        assert verify(app)["ok"]
        for _ in range(5):
            number = submit(intake_body(channel="online")).json["number"]
            act(number, "accept")
        act(cases[0], "archive")
        report = verify(app)
        assert report["ok"], report["problems"]
        assert report["checkpoint"]["case_count"] == 3
        take_checkpoint(app)
        assert verify(app)["checkpoint"]["case_count"] == 8

    def test_a_record_written_under_a_non_utc_clock_verifies(self, app, frozen_clock, submit, act):
        # the frozen clock speaks Asia/Shanghai; the database answers in UTC
        number = submit(intake_body(channel="online")).json["number"]
        act(number, "accept")
        assert verify(app)["ok"]

    def test_an_empty_record_verifies_and_can_be_checkpointed(self, app):
        take_checkpoint(app)
        report = verify(app)
        assert report == {
            "ok": True,
            "checked": 0,
            "problems": [],
            "checkpoint": report["checkpoint"],
        }
        assert report["checkpoint"]["event_count"] == 0

    def test_a_checkpoint_with_nothing_new_is_not_written_again(self, app, cases):
        first = take_checkpoint(app)
        assert take_checkpoint(app) == first


class TestTamperingIsDetected:
    @pytest.mark.parametrize("field", ["details", "actor_name", "at"])
    def test_an_edited_field_names_the_case_and_the_event(self, app, cases, field):
        with tampering(app) as conn:
            row = event_of(conn, cases[1], 3)
            changed = {
                "details": {"forged": True},
                "actor_name": "某人",
                "at": row.at + timedelta(seconds=1),
            }[field]
            conn.execute(update(Event).where(Event.id == row.id).values({field: changed}))
        assert only_problem(verify(app)) == (cases[1], 3, "hash_mismatch")

    def test_an_edited_event_that_is_rehashed_breaks_the_next_link(self, app, cases):
        with tampering(app) as conn:
            row = event_of(conn, cases[2], 2)
            conn.execute(update(Event).where(Event.id == row.id).values(hash="f" * 64))
        assert only_problem(verify(app)) == (cases[2], 2, "hash_mismatch")

    def test_a_deleted_event_in_the_middle_is_a_gap(self, app, cases):
        with tampering(app) as conn:
            conn.execute(delete(Event).where(Event.id == event_of(conn, cases[0], 4).id))
        report = verify(app)
        assert only_problem(report) == (cases[0], 4, "seq_gap")
        assert "event 4 missing, next is 5" in report["problems"][0]["detail"]

    def test_two_swapped_events_break_the_chain_at_the_first(self, app, cases):
        with tampering(app) as conn:
            second, third = event_of(conn, cases[1], 2), event_of(conn, cases[1], 3)
            conn.execute(update(Event).where(Event.id == second.id).values(seq=-1))
            conn.execute(update(Event).where(Event.id == third.id).values(seq=2))
            conn.execute(update(Event).where(Event.id == second.id).values(seq=3))
        assert only_problem(verify(app)) == (cases[1], 2, "prev_hash_mismatch")

    def test_renumbered_events_are_a_gap(self, app, cases):
        with tampering(app) as conn:
            last = last_seq(conn, cases[2])
            conn.execute(
                update(Event)
                .where(Event.application_id == case_id(conn, cases[2]), Event.seq >= 5)
                .values(seq=Event.seq + last)
            )
        assert only_problem(verify(app)) == (cases[2], 5, "seq_gap")

    def test_a_truncated_chain_names_the_first_missing_event(self, app, cases):
        with tampering(app) as conn:
            last = last_seq(conn, cases[0])
            conn.execute(
                delete(Event).where(
                    Event.application_id == case_id(conn, cases[0]), Event.seq >= last - 1
                )
            )
        assert only_problem(verify(app)) == (cases[0], last - 1, "truncated")

    def test_a_truncated_chain_with_a_forged_head_is_caught_by_the_checkpoint(self, app, cases):
        take_checkpoint(app)
        with tampering(app) as conn:
            last = last_seq(conn, cases[0])
            conn.execute(
                delete(Event).where(
                    Event.application_id == case_id(conn, cases[0]), Event.seq == last
                )
            )
            kept = event_of(conn, cases[0], last - 1)
            conn.execute(
                update(Application)
                .where(Application.number == cases[0])
                .values(last_event_seq=last - 1, last_event_hash=kept.hash)
            )
        assert only_problem(verify(app)) == (None, None, "checkpoint_mismatch")

    def test_a_deleted_whole_case_is_caught_by_the_checkpoint(self, app, cases):
        take_checkpoint(app)
        with tampering(app) as conn:
            delete_case(conn, cases[1])
        report = verify(app)
        assert only_problem(report) == (None, None, "checkpoint_mismatch")
        assert "记录 3 件" in report["problems"][0]["detail"]
        assert "现存 2 件" in report["problems"][0]["detail"]

    def test_a_case_whose_events_are_all_gone_is_named(self, app, cases):
        with tampering(app) as conn:
            conn.execute(delete(Event).where(Event.application_id == case_id(conn, cases[2])))
        assert only_problem(verify(app)) == (cases[2], 1, "no_events")

    def test_a_forged_head_on_the_application_row_is_named(self, app, cases):
        with tampering(app) as conn:
            conn.execute(
                update(Application)
                .where(Application.number == cases[1])
                .values(last_event_hash="e" * 64)
            )
        application, _seq, kind = only_problem(verify(app))
        assert (application, kind) == (cases[1], "head_mismatch")

    def test_each_tampered_case_is_reported_once_with_its_first_bad_event(self, app, cases):
        with tampering(app) as conn:
            for seq in (2, 5):
                row = event_of(conn, cases[0], seq)
                conn.execute(update(Event).where(Event.id == row.id).values(actor_name="x"))
            conn.execute(delete(Event).where(Event.id == event_of(conn, cases[2], 3).id))
        problems = verify(app)["problems"]
        assert [(p["application"], p["seq"], p["kind"]) for p in problems] == [
            (cases[0], 2, "hash_mismatch"),
            (cases[2], 3, "seq_gap"),
        ]

    def test_no_new_checkpoint_covers_up_a_deleted_case(self, app, cases):
        take_checkpoint(app)
        with tampering(app) as conn:
            delete_case(conn, cases[0])
        with app.app_context(), pytest.raises(audit.CheckpointRefused):
            audit.checkpoint()
        assert only_problem(verify(app)) == (None, None, "checkpoint_mismatch")


def delete_case(conn, number):
    """Remove a case and every row that refers to it, as an intruder would."""
    application_id = case_id(conn, number)
    for table in reversed(db.metadata.sorted_tables):
        for fk in table.foreign_keys:
            if fk.column.table.name == "applications":
                conn.execute(delete(table).where(fk.parent == application_id))
    conn.execute(delete(Application.__table__).where(Application.id == application_id))


def assert_refused(app, statement):
    """The database itself refuses ``statement``."""
    refused = pytest.raises(exc.DBAPIError, match="append-only")
    with app.app_context(), db.engine.connect() as conn, refused, conn.begin():
        conn.execute(statement)


class TestTheDatabaseRefusesChanges:
    def test_an_update_of_an_event_is_refused(self, app, cases):
        assert_refused(app, update(Event).values(actor_name="某人"))
        assert verify(app)["ok"]

    def test_a_delete_of_an_event_is_refused(self, app, cases):
        assert_refused(app, delete(Event).where(Event.seq > 3))
        assert verify(app)["ok"]

    def test_checkpoints_cannot_be_changed_or_removed(self, app, cases):
        take_checkpoint(app)
        assert_refused(app, update(AuditCheckpoint).values(event_count=0))
        assert_refused(app, delete(AuditCheckpoint))
        assert verify(app)["checkpoint"]["event_count"] > 0


class TestCommandLine:
    def test_verify_exits_zero_on_a_clean_record(self, app, cases):
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 0, result.output
        assert "ok" in result.output.splitlines()[-1]

    def test_verify_exits_non_zero_and_names_the_case_on_a_tampered_record(self, app, cases):
        with tampering(app) as conn:
            conn.execute(delete(Event).where(Event.id == event_of(conn, cases[1], 2).id))
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 1
        assert f"{cases[1]}\t2\tseq_gap" in result.output

    def test_checkpoint_writes_a_checkpoint(self, app, cases):
        result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
        assert result.exit_code == 0, result.output
        assert "3 cases" in result.output
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1

    def test_checkpoint_refuses_when_the_record_lost_a_case(self, app, cases):
        take_checkpoint(app)
        with tampering(app) as conn:
            delete_case(conn, cases[2])
        result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
        assert result.exit_code != 0
        assert "检查点" in result.output


class TestApi:
    @pytest.mark.parametrize("role", ["oversight", "admin"])
    def test_oversight_gets_the_verdict(self, client, tokens, cases, role):
        response = client.get("/api/v1/oversight/audit/verify", headers=bearer(tokens[role]))
        assert response.status_code == 200
        assert response.json["ok"] is True and response.json["problems"] == []
        assert response.json["checked"] > 0

    def test_a_tampered_record_is_reported(self, app, client, tokens, cases):
        with tampering(app) as conn:
            row = event_of(conn, cases[0], 2)
            conn.execute(update(Event).where(Event.id == row.id).values(details={"x": 1}))
        response = client.get("/api/v1/oversight/audit/verify", headers=bearer(tokens["oversight"]))
        assert response.json["ok"] is False
        assert response.json["problems"] == [
            {
                "application": cases[0],
                "seq": 2,
                "kind": "hash_mismatch",
                "detail": response.json["problems"][0]["detail"],
            }
        ]

    @pytest.mark.parametrize("role", ["window", "scjg", "supervisor"])
    def test_other_roles_are_403(self, client, tokens, role):
        response = client.get("/api/v1/oversight/audit/verify", headers=bearer(tokens[role]))
        assert response.status_code == 403


def verify_one(app, number):
    """``audit.verify_case`` of one case, in its own app context."""
    with app.app_context():
        application = db.session.scalars(
            select(Application).where(Application.number == number)
        ).one()
        return audit.verify_case(application)


class TestOneCase:
    def test_a_clean_case_verifies_with_every_event_checked(self, app, cases):
        report = verify_one(app, cases[0])
        with app.app_context():
            count = db.session.scalar(
                select(func.count())
                .select_from(Event)
                .join(Application, Application.id == Event.application_id)
                .where(Application.number == cases[0])
            )
        assert report == {"ok": True, "checked": count, "problems": []}

    def test_only_the_tampered_case_is_faulty_and_every_edited_event_is_named(self, app, cases):
        with tampering(app) as conn:
            for seq in (3, 5):
                row = event_of(conn, cases[1], seq)
                conn.execute(update(Event).where(Event.id == row.id).values(details={"x": seq}))
        report = verify_one(app, cases[1])
        assert not report["ok"]
        assert [(p["application"], p["seq"], p["kind"]) for p in report["problems"]] == [
            (cases[1], 3, "hash_mismatch"),
            (cases[1], 5, "hash_mismatch"),
        ]
        assert verify_one(app, cases[0])["ok"] and verify_one(app, cases[2])["ok"]

    def test_a_deleted_last_event_is_a_truncated_chain(self, app, cases):
        with tampering(app) as conn:
            last = event_of(conn, cases[0], last_seq(conn, cases[0]))
            conn.execute(delete(Event).where(Event.id == last.id))
        [problem] = verify_one(app, cases[0])["problems"]
        assert (problem["seq"], problem["kind"]) == (last.seq, "truncated")

    def test_a_gap_is_named_once_and_the_events_after_it_still_check(self, app, cases):
        with tampering(app) as conn:
            row = event_of(conn, cases[2], 2)
            conn.execute(delete(Event).where(Event.id == row.id))
        kinds = [(p["seq"], p["kind"]) for p in verify_one(app, cases[2])["problems"]]
        assert kinds == [(2, "seq_gap")]


class TestVolume:
    def test_ten_thousand_events_verify(self, app, submit):
        numbers = [submit(intake_body(channel="online")).json["number"] for _ in range(20)]
        with app.app_context():
            for number in numbers:
                with write_transaction() as session:
                    application = session.scalars(
                        select(Application).where(Application.number == number)
                    ).one()
                    for i in range(500):
                        record(application, "note.added", by=SYSTEM, details={"i": i})
                    application.version += 1
        take_checkpoint(app)
        report = verify(app)
        assert report["ok"], report["problems"][:3]
        assert report["checked"] >= 10_000
        assert report["checkpoint"]["event_count"] == report["checked"]
