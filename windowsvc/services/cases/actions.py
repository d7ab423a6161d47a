"""Staff actions on an application (受理, 补正, 不予受理, 特别程序, 延期, 撤回, 送达, 归档)."""

from ... import clock
from ...catalog.versions import item_of
from ...db import write_transaction
from ...models import Application
from ...platform.errors import Forbidden, Invalid, NotFound, PreconditionFailed
from ...rules import materials
from ...workflows import ActionNotAllowed
from ...workflows.lifecycle import LIFECYCLE, STAFF_ACTIONS, check_extension
from ..calendar.working import due_after
from . import clocks, corrections, steps
from .applications import conclude, find, touch
from .records import SYSTEM, Actor, record, transition


def perform(number: str, action: str, actor: Actor, if_match: int, payload: dict) -> Application:
    """Take a staff action on an application at the version the caller last saw; the case as it
    is after the action (committed)."""
    if action not in STAFF_ACTIONS:
        raise NotFound(f"没有 {action} 这个操作 (unknown action)")
    with write_transaction():
        application = find(number, actor, for_update=True, to_act=True)
        if actor.role not in LIFECYCLE.actors_of(action):
            raise Forbidden(f"角色 {actor.role} 不能执行 {action}")
        if application.version != if_match:
            raise PreconditionFailed(
                f"办件已被他人更新 (当前版本 {application.version}), 请刷新后重试",
                current_version=application.version,
            )
        touch(application)
        HANDLERS[action](application, actor, **payload)
        return application


def _fire(application, actor, trigger, event_type, details=None, **kwargs):
    transition(LIFECYCLE, application, trigger, event_type, by=actor, details=details, **kwargs)


def _codes_to_materials(application, codes, field):
    named, unknown = materials.name_materials(item_of(application).definition, codes)
    if unknown:
        raise Invalid("该事项没有这些材料", {field: [f"unknown material {c}" for c in unknown]})
    return named


def _accept(application, actor):
    steps.accept_and_start(application, actor)


def _request_correction(application, actor, missing, note=""):
    listed = _codes_to_materials(application, missing, "missing")
    if not listed:
        raise Invalid("补正告知须一次性列明全部需补正的材料", {"missing": ["must not be empty"]})
    corrections.notice(application, actor, listed, note)


def _supplement(application, actor, materials):
    if application.state != "correction":
        _supplement_deferred(application, actor, materials)
        return
    supplied = _codes_to_materials(application, materials, "materials")
    codes = {m["code"] for m in supplied}
    application.materials = list(application.materials or []) + [
        {**m, "source": "applicant", "supplemented_at": clock.now().isoformat()} for m in supplied
    ]
    application.missing = [m for m in application.missing or [] if m["code"] not in codes]
    before = application.state
    details = {"materials": sorted(codes), "still_missing": application.missing}
    if not application.missing and not (application.details or {}).get("correction_origin"):
        # Complete: the acceptance date is the day the materials became complete (Art 32).
        record(application, "application.supplemented", by=actor, details=details)
        steps.accept_and_start(application, actor, trigger="supplement")
        return
    _fire(application, actor, "supplement", "application.supplemented", details)
    if application.state != before and application.state == "in_progress":
        corrections.set_detail(application, "correction_origin", None)
        paused = clocks.resume(application)
        corrections.set_detail(
            application,
            "correction",
            {
                **application.details["correction"],
                "paused_working_days": paused,
                "ended_on": clock.today().isoformat(),
            },
        )
        steps.reopen_after_supplement(application)


def _supplement_deferred(application, actor, materials):
    """容缺补交: materials accepted on a written commitment are handed in after acceptance."""
    outstanding = {d["code"] for d in application.deferred or [] if not d.get("supplied_at")}
    unknown = sorted(set(materials) - outstanding)
    if unknown and outstanding:
        raise Invalid("这些材料不是本件待补交的容缺材料", {"materials": unknown})
    _fire(
        application,
        actor,
        "supplement",
        "application.deferred_supplied",
        {"materials": sorted(set(materials))},
    )
    now = clock.now().isoformat()
    application.deferred = [
        {**d, "supplied_at": now} if d["code"] in materials and not d.get("supplied_at") else d
        for d in application.deferred or []
    ]


def _refuse(application, actor, reason, rights_notice):
    refusal = {"reason": reason, "rights_notice": rights_notice, "at": clock.now().isoformat()}
    _fire(
        application,
        actor,
        "refuse",
        "application.refused",
        refusal,
        reason=reason,
        rights_notice=rights_notice,
    )
    corrections.set_detail(application, "refusal", refusal)
    conclude(application)


def _suspend(application, actor, reason, kind, expected_days):
    today = clock.today()
    expected_end = due_after(today, expected_days)
    entry = {
        "kind": kind,
        "reason": reason,
        "expected_days": expected_days,
        "started_on": today.isoformat(),
        "expected_end": expected_end.date.isoformat(),
        "expected_end_provisional": expected_end.provisional,
    }
    _fire(
        application,
        actor,
        "suspend",
        "application.suspended",
        entry,
        kind=kind,
        reason=reason,
        expected_days=expected_days,
    )
    earlier = (application.details or {}).get("suspensions", [])
    corrections.set_detail(application, "suspensions", [*earlier, entry])
    clocks.pause(application)


def _resume(application, actor, result):
    before = application.state
    LIFECYCLE.fire("resume", application, result=result)  # a procedure must be under way
    suspensions = [dict(s) for s in (application.details or {}).get("suspensions", [])]
    current = suspensions[-1]
    paused = clocks.resume(application)
    current.update(
        result=result,
        ended_on=clock.today().isoformat(),
        paused_working_days=paused,
        due_date=application.due_date.isoformat(),
        legal_due_date=application.legal_due_date.isoformat(),
    )
    record(
        application,
        "application.resumed",
        by=actor,
        from_state=before,
        to_state=application.state,
        details=current,
    )
    corrections.set_detail(application, "suspensions", suspensions)
    if application.missing and application.details.get("correction_origin") == "department":
        # a department asked for materials during the procedure: the applicant is asked now
        transition(
            LIFECYCLE,
            application,
            "department_correction",
            "application.correction_requested",
            by=SYSTEM,
            details={"missing": application.missing, "after": "special procedure"},
        )
        clocks.pause(application)
        return
    # steps may have finished during the special procedure: the join runs now
    steps.advance_when_stage_done(application)


def extension_due_date(application, days: int) -> dict:
    """The promised and legal due dates an extension of ``days`` working days gives the case:
    ``{"due_date": Deadline, "legal_due_date": Deadline}`` (nothing is changed)."""
    return clocks.moved_case_deadlines(application, days)


def preview_extension(number: str, actor: Actor, **payload) -> tuple:
    """延期 before it is granted: the case and the due dates it would get (``extension_due_date``).

    Refuses exactly as ``perform`` would (scope, role, state, the lifecycle's guard); changes
    nothing. The caller grants it with ``perform(..., "extend", ...)`` at the version it read.
    """
    application = find(number, actor, to_act=True)
    if actor.role not in LIFECYCLE.actors_of("extend"):
        raise Forbidden(f"角色 {actor.role} 不能执行 extend")
    if "extend" not in LIFECYCLE.allowed(application.state, actor.role, application):
        raise ActionNotAllowed(
            "extend", application.state, LIFECYCLE.allowed(application.state, model=application)
        )
    check_extension(application, mode=item_of(application).mode, **payload)
    return application, extension_due_date(application, payload["days"])


def _extend(application, actor, days, reason, approver):
    entry = {"days": days, "reason": reason, "approver": approver, "at": clock.now().isoformat()}
    LIFECYCLE.fire(
        "extend",
        application,
        days=days,
        reason=reason,
        approver=approver,
        mode=item_of(application).mode,
    )
    clocks.set_case_deadlines(application, extension_due_date(application, days))
    entry.update(
        due_date=application.due_date.isoformat(),
        legal_due_date=application.legal_due_date.isoformat(),
        due_date_provisional=application.due_date_provisional,
        legal_due_date_provisional=application.legal_due_date_provisional,
    )
    corrections.set_detail(application, "extension", entry)
    record(
        application,
        "application.extended",
        by=actor,
        from_state=application.state,
        to_state=application.state,
        details=entry,
    )


def _withdraw(application, actor, reason):
    entry = {"reason": reason, "at": clock.now().isoformat()}
    _fire(application, actor, "withdraw", "application.withdrawn", entry, reason=reason)
    steps.cancel_open_steps(application, "申请人撤回")
    corrections.set_detail(application, "withdrawal", entry)
    conclude(application)


def _deliver(application, actor, method, tracking=None):
    entry = {"method": method, "tracking": tracking, "at": clock.now().isoformat()}
    _fire(
        application,
        actor,
        "deliver",
        "application.delivered",
        entry,
        method=method,
        tracking=tracking,
    )
    corrections.set_detail(application, "delivery_record", entry)


def _archive(application, actor):
    _fire(application, actor, "archive", "application.archived")


HANDLERS = {
    "accept": _accept,
    "request_correction": _request_correction,
    "supplement": _supplement,
    "refuse": _refuse,
    "suspend": _suspend,
    "resume": _resume,
    "extend": _extend,
    "withdraw": _withdraw,
    "deliver": _deliver,
    "archive": _archive,
}
