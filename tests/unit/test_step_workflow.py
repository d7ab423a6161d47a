"""The back-office step: its lease fence and the states the bulk SQL paths take from it."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from windowsvc.workflows import ActionNotAllowed
from windowsvc.workflows.step import FETCHABLE, LOCKED, RELEASED, STEP, lease_refusal

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


@dataclass
class FakeStep:
    """The attributes of a step row the fence reads."""

    id: int = 7
    state: str = "locked"
    lock_owner: str | None = "worker-a"
    lock_expires_at: datetime | None = NOW + timedelta(minutes=5)
    attempt: int = 2


class TestLeaseFence:
    def test_the_holder_of_a_live_lease_may_report(self):
        assert lease_refusal(FakeStep(), "worker-a", NOW) is None
        assert lease_refusal(FakeStep(), "worker-a", NOW, attempt=2) is None

    def test_a_step_that_is_not_locked_is_refused(self):
        assert "not locked" in lease_refusal(FakeStep(state="pending"), "worker-a", NOW)

    def test_another_worker_is_refused(self):
        assert "another worker" in lease_refusal(FakeStep(), "worker-b", NOW)

    def test_an_expired_lease_is_refused_even_for_its_holder(self):
        step = FakeStep(lock_expires_at=NOW)
        assert "expired" in lease_refusal(step, "worker-a", NOW)

    @pytest.mark.parametrize("attempt", [1, 3])
    def test_a_report_naming_another_attempt_is_refused(self, attempt):
        assert "attempt 2" in lease_refusal(FakeStep(), "worker-a", NOW, attempt=attempt)


class TestStatesForBulkWrites:
    def test_a_claim_goes_where_the_machines_fetch_goes(self):
        assert (FETCHABLE, LOCKED) == ("pending", "locked")
        assert STEP.destination("fetch", FETCHABLE) == LOCKED

    def test_a_lapsed_lease_goes_back_where_an_unlock_goes(self):
        assert RELEASED == STEP.destination("unlock", LOCKED) == "pending"

    def test_a_transition_the_machine_does_not_have_is_refused(self):
        with pytest.raises(ActionNotAllowed):
            STEP.destination("fetch", "completed")

    def test_a_transition_that_stays_names_its_source(self):
        assert STEP.destination("extend_lock", LOCKED) == LOCKED
