"""The window's work queues (我的工作台): which cases wait for the window, as data.

Each queue names its states through the lifecycle (the sources or destination of a window
transition), never by literals of its own, or — for cases near or past their limit — by the
warning level the oversight sweep stores on the case (``Application.warning_level``).
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from ...extensions import db
from ...models import Application, Step
from ...platform.paging import page_of
from ...rules.scoping import confined_to
from ...rules.warnings import LEVELS
from ...workflows.lifecycle import LIFECYCLE
from .records import Actor


def _sources(trigger: str) -> tuple[str, ...]:
    """The states ``trigger`` may be fired from, in lifecycle order."""
    found = []
    for t in LIFECYCLE.transitions:
        if t["trigger"] != trigger:
            continue
        for state in t["source"] if isinstance(t["source"], list) else [t["source"]]:
            if state not in found:
                found.append(state)
    return tuple(found)


def _destinations(trigger: str, sources) -> tuple[str, ...]:
    return tuple(dict.fromkeys(LIFECYCLE.destination(trigger, s) for s in sources))


# 预审: what the window may still correct (请求补正) has not been reviewed yet
PRE_REVIEW = _sources("request_correction")
# 待补正: where a correction notice leads
AWAITING_CORRECTION = _destinations("request_correction", PRE_REVIEW)
# 待送达/待领取: what the window hands out
TO_DELIVER = _sources("deliver")


@dataclass(frozen=True)
class Queue:
    """One queue of the workbench: its key (``?queue=``), label, hint and what it holds."""

    key: str
    label: str
    hint: str
    states: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # stored warning levels (any of them)

    def condition(self):
        if self.warnings:
            return Application.warning_level.in_(self.warnings)
        return Application.state.in_(self.states)


QUEUES = (
    Queue("pre_review", "网上申请待预审", "网上、移动端提交, 待窗口预审受理", states=PRE_REVIEW),
    Queue(
        "correction", "待补正", "已一次性告知补正, 等待申请人补交材料", states=AWAITING_CORRECTION
    ),
    Queue("deliver", "待送达/待领取", "已出结果, 待窗口送达或申请人领取", states=TO_DELIVER),
    Queue("warning", "临近或超期", "电子监察预警、黄牌、红牌的在办件", warnings=LEVELS),
)
BY_KEY = {q.key: q for q in QUEUES}


def queue_of(key: str | None) -> Queue:
    """The queue named ``key``; the first queue when the key is unknown or missing."""
    return BY_KEY.get(key or "", QUEUES[0])


def _scoped(query, actor: Actor):
    """Only the cases the actor may see (a department role: those with a step of it)."""
    confined = confined_to(actor.role, actor.department, reading_a_case=True)
    if confined is None:
        return query
    has_step = (
        select(Step.id)
        .where(Step.application_id == Application.id, Step.department == confined)
        .exists()
    )
    return query.where(has_step)


def counts(actor: Actor) -> dict[str, int]:
    """How many cases each queue holds now, and per warning level for the warning queue."""
    found = {}
    for queue in QUEUES:
        query = _scoped(select(func.count(Application.id)).where(queue.condition()), actor)
        found[queue.key] = db.session.scalar(query) or 0
    by_level = _scoped(
        select(Application.warning_level, func.count(Application.id))
        .where(Application.warning_level.in_(LEVELS))
        .group_by(Application.warning_level),
        actor,
    )
    found.update({level: 0 for level in LEVELS})
    found.update(dict(db.session.execute(by_level).all()))
    return found


def cases_in(actor: Actor, queue: Queue, page=1, per_page=20):
    """A page of the queue's cases and the queue's total: oldest first (warnings: by due date)."""
    query = _scoped(select(Application).where(queue.condition()), actor)
    if queue.warnings:
        order = (Application.due_date.asc(), Application.id.asc())
    else:  # a queue is worked from its oldest case on
        order = (Application.id.asc(),)
    one_page, total = page_of(query, page, per_page, *order)
    return list(db.session.scalars(one_page)), total
