"""`windowsvc sweep`: the timers, idempotent — run it as often as you like (cron, systemd timer).

- 视为受理: a submission with no correction notice delivered within 5 working days of receipt is
  accepted as of the day of receipt (Art 32).
- 补正超时驳回: a 容缺 commitment date passed without the material → the case is terminated.
- Expired leases go back to the queue; warning levels are refreshed; an audit checkpoint is taken.
- Provisional deadlines are counted again where the calendar now knows better (a notice loaded
  while a case was being written is caught here).
- 默认好评 (when DEFAULT_RATING_DAYS is set): a case unrated that long counts as 满意.

Sweeps may run at the same time (several nodes, cron overlapping a slow run): each timer runs in
one of them at a time (``platform.timers.only_one``) and the others skip it, so concurrent sweeps
share the timers out. Every timer re-checks each case under its row lock before acting, so even
two runners of one timer do nothing twice.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import String, cast, select, update

from ... import clock
from ...db import is_postgres, write_transaction
from ...extensions import db
from ...models import Application, Step
from ...platform.errors import ServiceError
from ...platform.timers import only_one
from ...platform.wakeup import announce
from ...rules.deadlines import add_working_days
from ...rules.deeming import NOTICE_DAYS
from ...workflows.lifecycle import LIFECYCLE, OPEN_AFTER_ACCEPTANCE, outstanding_deferrals
from ...workflows.step import LOCKED, RELEASED
from ..calendar import recount
from ..calendar.working import working_calendar
from ..cases import steps
from ..cases.applications import conclude, start_clocks, touch
from ..cases.applications import lock as lock_application
from ..cases.deeming import deemed_accepted, notice_limit
from ..cases.records import SYSTEM, record, transition
from ..oversight import audit
from ..oversight import warnings as oversight
from ..ratings import ratings

log = logging.getLogger(__name__)
RECOUNT_ROUNDS = 3  # sweeps that recount after the calendar changed


@dataclass
class SweepReport:
    """What one sweep did."""

    deemed_accepted: list[str] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    leases_released: int = 0
    recounted: list[str] = field(default_factory=list)
    warnings_changed: int = 0
    default_ratings: list[str] = field(default_factory=list)
    checkpoint: bool = False
    checkpoint_refused: str | None = None
    failures: list[str] = field(default_factory=list)
    # timers another sweep was running at the time (it does their work)
    skipped: list[str] = field(default_factory=list)


def run() -> SweepReport:
    """Run every timer once; one timer failing is reported and does not keep the others from
    running."""
    report = SweepReport()
    for name, timer in (
        ("deemed_accepted", deem_acceptances),
        ("terminated", terminate_missed_commitments),
        ("leases_released", release_expired_leases),
        ("recounted", recount_provisional),
        ("warnings_changed", oversight.update_warning_levels),
        ("default_ratings", ratings.give_default_ratings),
    ):
        with only_one(name) as mine:
            if not mine:
                report.skipped.append(name)
                continue
            try:
                setattr(report, name, timer())
            except ServiceError as exc:
                log.error("sweep: %s failed: %s", name, exc)
                report.failures.append(f"{name}: {getattr(exc, 'detail', exc)}")
    with only_one("checkpoint") as mine:
        if not mine:
            report.skipped.append("checkpoint")
            return report
        try:
            audit.checkpoint()
            report.checkpoint = True
        except audit.CheckpointRefused as exc:
            # the record no longer matches the last checkpoint: never paper over it with a new one
            log.error("audit checkpoint refused: %s", exc.detail)
            report.checkpoint_refused = exc.detail
    return report


def _last_receipt_day_past_notice_limit(today):
    """The latest receipt day whose 5-working-day notice limit ended before today."""
    day = today - timedelta(days=1)
    calendar = working_calendar()
    while add_working_days(day, NOTICE_DAYS, calendar) >= today:
        day -= timedelta(days=1)
    return day


def deem_acceptances() -> list[str]:
    """视为受理 for every case whose notice limit passed without a delivered correction notice."""
    today = clock.today()
    last_day = _last_receipt_day_past_notice_limit(today)
    cutoff = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=clock.SHANGHAI)
    candidates = db.session.scalars(
        select(Application.id).where(
            Application.state.in_(("submitted", "correction")),
            Application.acceptance_date.is_(None),
            Application.received_at < cutoff,
        )
    ).all()
    deemed = []
    for application_id in candidates:
        with write_transaction():
            application = lock_application(application_id)
            if not deemed_accepted(application):
                continue
            received_on = clock.local(application.received_at).date()
            limit = notice_limit(application)
            touch(application)
            before = application.state
            LIFECYCLE.fire("deem_accepted", application)
            start_clocks(application, application.received_at)
            record(
                application,
                "application.deemed_accepted",
                by=SYSTEM,
                from_state=before,
                to_state=application.state,
                details={
                    "received_on": received_on.isoformat(),
                    "notice_limit": limit.date.isoformat(),
                    "notice_limit_provisional": limit.provisional,
                    "acceptance_date": application.acceptance_date.isoformat(),
                    "due_date": application.due_date.isoformat(),
                    "legal_due_date": application.legal_due_date.isoformat(),
                    "deadlines_provisional": application.due_date_provisional
                    or application.legal_due_date_provisional,
                },
            )
            steps.start_processing(application)
            deemed.append(application.number)
    return deemed


def terminate_missed_commitments() -> list[str]:
    """补正超时驳回: a deferred (容缺) material not handed in by its commitment date."""
    today = clock.today()
    candidates = db.session.scalars(
        select(Application.id).where(
            Application.state.in_(OPEN_AFTER_ACCEPTANCE), cast(Application.deferred, String) != "[]"
        )
    ).all()
    terminated = []
    for application_id in candidates:
        with write_transaction():
            application = lock_application(application_id)
            overdue = [
                d
                for d in outstanding_deferrals(application)
                if datetime.fromisoformat(d["commit_date"]).date() < today
            ]
            if application.state not in OPEN_AFTER_ACCEPTANCE or not overdue:
                continue
            touch(application)
            reason = "容缺材料逾期未补交, 补正超时驳回: " + "、".join(d["name"] for d in overdue)
            transition(
                LIFECYCLE,
                application,
                "terminate",
                "application.terminated",
                by=SYSTEM,
                details={"reason": reason, "materials": [d["code"] for d in overdue]},
                reason=reason,
            )
            steps.cancel_open_steps(application, reason)
            conclude(application)
            terminated.append(application.number)
    return terminated


def recount_provisional() -> list[str]:
    """The cases whose provisional dates changed on the calendar as it now stands.

    Only in the first rounds after this process saw the calendar change (a notice loaded, or a
    start with a newer chinesecalendar): enough to catch a case written while a notice loaded,
    without reading every provisional case every minute.
    """
    state = current_app.extensions.setdefault("windowsvc.recount", {"revision": -1, "rounds": 0})
    revision = working_calendar().revision
    if revision != state["revision"]:
        state.update(revision=revision, rounds=RECOUNT_ROUNDS)
    if not state["rounds"]:
        return []
    state["rounds"] -= 1
    return recount.recount_all("工作日历已更新 (calendar updated)").cases


def release_expired_leases() -> int:
    """Locked steps whose lease ran out go back to pending (fetch would take them anyway).

    The expired steps are claimed with SKIP LOCKED on PostgreSQL: a step a worker is completing
    (or a fetch is taking over) right now is its business, not a reason to wait.
    """
    with write_transaction() as session:
        now = clock.now()
        expired = select(Step.id, Step.department).where(
            Step.state == LOCKED, Step.lock_expires_at <= now
        )
        if is_postgres():
            expired = expired.with_for_update(skip_locked=True)
        rows = session.execute(expired).all()
        if not rows:
            return 0
        result = session.execute(
            update(Step)
            .where(Step.id.in_([r.id for r in rows]), Step.state == LOCKED)
            .values(state=RELEASED, lock_owner=None, lock_expires_at=None, available_at=now)
            .execution_options(synchronize_session=False)
        )
        for department in {r.department for r in rows}:
            announce(department)
        return result.rowcount or 0
