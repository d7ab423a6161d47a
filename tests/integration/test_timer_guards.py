"""Timers guarded against concurrent sweeps: one runner per timer, one checkpoint per cut."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.factories import intake_body


def test_a_sweep_skips_the_timers_another_one_runs(app, submit):
    from windowsvc.platform.timers import only_one
    from windowsvc.services.admin import sweep

    submit(intake_body())
    with app.app_context():
        with only_one("checkpoint") as held, only_one("deemed_accepted") as held_too:
            assert held and held_too
            report = sweep.run()
            assert report.skipped == ["deemed_accepted", "checkpoint"]
            assert report.checkpoint is False
        with only_one("checkpoint") as again:
            assert again  # released when the block ended
        report = sweep.run()
        assert report.skipped == [] and report.checkpoint is True


def test_a_checkpoint_taken_concurrently_is_returned_not_repeated(app, submit, monkeypatch):
    from windowsvc.extensions import db
    from windowsvc.models import AuditCheckpoint
    from windowsvc.services.oversight import audit

    submit(intake_body())
    with app.app_context():
        first = audit.checkpoint()
        first_id, cut = first.id, first.last_event_id
        # a sweep that decided before the first one committed: it sees no checkpoint of the cut
        real_covering, calls = audit._covering, []

        def covering_seen_too_early(at):
            calls.append(at)
            return None if len(calls) == 1 else real_covering(at)

        monkeypatch.setattr(audit, "_covering", covering_seen_too_early)
        monkeypatch.setattr(audit, "_newest_checkpoint", lambda: None)
        second = audit.checkpoint()
        assert second.id == first_id and second.last_event_id == cut
        assert len(calls) == 2  # the insert hit the unique cut; the taken one was read back
        assert db.session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1


def test_the_cut_is_unique_in_the_database(app, submit):
    from windowsvc import clock
    from windowsvc.db import write_transaction
    from windowsvc.models import AuditCheckpoint
    from windowsvc.services.oversight import audit

    submit(intake_body())
    with app.app_context():
        taken = audit.checkpoint()
        with pytest.raises(IntegrityError), write_transaction() as session:
            session.add(
                AuditCheckpoint(
                    at=clock.now(),
                    last_event_id=taken.last_event_id,
                    event_count=taken.event_count,
                    case_count=taken.case_count,
                    digest=taken.digest,
                )
            )
