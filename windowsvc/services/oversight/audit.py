"""The tamper-evident lifecycle record (全过程记录): verify the hash chains, take checkpoints.

Each case's events form a chain (seq 1, 2, ... each carrying the previous event's hash). A
checkpoint fixes a *cut* of the record — every event up to ``last_event_id``, all committed when it
was taken — by a digest over each case's chain head within the cut, so deleting a whole case or
cutting a chain short is found later even though the chains themselves would still look whole.
"""

import hashlib
import logging
from itertools import groupby
from operator import attrgetter

from sqlalchemy import and_, exists, func, select, text
from sqlalchemy.exc import IntegrityError

from ... import clock
from ...db import is_postgres, write_transaction
from ...extensions import db
from ...models import Application, AuditCheckpoint, Event
from ...platform.errors import Conflict
from ...rules.chain import GENESIS, canonical, event_hash
from ..cases.records import hashed_fields

log = logging.getLogger(__name__)
BATCH = 2000


class CheckpointRefused(Conflict):
    """The newest checkpoint no longer matches the record: a new one would hide the damage."""

    type = "/problems/audit-checkpoint-refused"


def verify() -> dict:
    """Check every chain, every case head and the newest checkpoint: ``{ok, checked, problems}``."""
    problems, checked = [], 0
    for _application_id, rows in groupby(_stream_events(), key=attrgetter("application_id")):
        count, problem = _check_case(rows)
        checked += count
        if problem:
            problems.append(problem)
    problems += _cases_without_events()
    newest = _newest_checkpoint()
    if newest is not None:
        mismatch = _compare_with(newest)
        if mismatch:
            problems.append(_problem(None, None, "checkpoint_mismatch", mismatch))
    return {
        "ok": not problems,
        "checked": checked,
        "problems": problems,
        "checkpoint": _summary(newest),
    }


def checkpoint() -> AuditCheckpoint:
    """Write a checkpoint over the record as it stands (or return the newest, if nothing is new).

    Whether a new one is needed is decided again inside the inserting transaction (serialised by
    SQLite's writer lock, on PostgreSQL by a transaction-level advisory lock), and the cut is
    unique (migration 0009): a concurrent sweep that took the same cut first wins, and this call
    returns its checkpoint — taken once, never an error.
    """
    cut = _current_cut()
    newest = _newest_checkpoint()
    if newest is not None:
        mismatch = _compare_with(newest)
        if mismatch:
            log.error("audit checkpoint refused: %s", mismatch)
            raise CheckpointRefused(f"审计记录与最近检查点不符, 拒绝新建检查点: {mismatch}")
        if newest.last_event_id >= cut:
            return newest
    digest, case_count, event_count = _digest_of_cut(cut)
    try:
        with write_transaction() as session:
            if is_postgres():
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHECKPOINT_KEY})
            taken = _covering(cut)
            if taken is not None:
                return taken
            row = AuditCheckpoint(
                at=clock.now(),
                last_event_id=cut,
                event_count=event_count,
                case_count=case_count,
                digest=digest,
            )
            session.add(row)
            session.flush()  # a duplicate cut fails here
    except IntegrityError:
        taken = _covering(cut)  # another process inserted this cut outside the advisory lock
        if taken is None:
            raise
        log.info("audit checkpoint of cut %s already taken (#%s)", cut, taken.id)
        return taken
    return row


_CHECKPOINT_KEY = int.from_bytes(
    hashlib.sha256(b"windowsvc.audit.checkpoint").digest()[:8], "big", signed=True
)


def _covering(cut: int) -> AuditCheckpoint | None:
    """The newest checkpoint whose cut reaches ``cut`` (a fresher one makes this one needless)."""
    return db.session.scalar(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.last_event_id >= cut)
        .order_by(AuditCheckpoint.last_event_id.desc())
        .limit(1)
    )


def verify_case(application: Application) -> dict:
    """Check one case's chain: ``{ok, checked, problems}`` with *every* faulty event.

    Unlike ``verify`` (which names a case's first fault), the check goes on after a fault,
    taking the next event against the stored hash before it, so each edited event is named.
    """
    stmt = _event_rows().where(Event.application_id == application.id).order_by(Event.seq)
    problems, expected, prev, last, count = [], 1, GENESIS, None, 0
    for row in db.session.execute(stmt):
        count += 1
        fault = _event_fault(row, expected, prev)
        if fault:
            problems.append(fault)
        expected, prev, last = row.seq + 1, row.hash, row
    if last is None:
        detail = f"办件没有任何事件 (no events; recorded head {application.last_event_seq})"
        problems.append(_problem(application.number, 1, "no_events", detail))
    elif (head := _against_head(last)) is not None:
        problems.append(head)
    return {"ok": not problems, "checked": count, "problems": problems}


def _stream_events():
    """Every event with its case's number and recorded head, in chain order, fetched in batches."""
    stmt = (
        _event_rows().order_by(Event.application_id, Event.seq).execution_options(yield_per=BATCH)
    )
    return db.session.execute(stmt)


def _event_rows():
    """SELECT of events with their case's number and recorded chain head."""
    return select(
        Event.application_id,
        Event.seq,
        Event.type,
        Event.at,
        Event.actor_id,
        Event.actor_name,
        Event.actor_role,
        Event.from_state,
        Event.to_state,
        Event.details,
        Event.prev_hash,
        Event.hash,
        Application.number,
        Application.last_event_seq,
        Application.last_event_hash,
    ).outerjoin(Application, Application.id == Event.application_id)


def _check_case(rows) -> tuple[int, dict | None]:
    """(events seen, the first problem of this case or None)."""
    expected, prev, count, problem, last = 1, GENESIS, 0, None, None
    for row in rows:
        count += 1
        if problem is None:
            problem = _event_fault(row, expected, prev)
            expected, prev, last = expected + 1, row.hash, row
    if problem is None and last is not None:
        problem = _against_head(last)
    return count, problem


def _event_fault(row, expected: int, prev: str) -> dict | None:
    """What is wrong with one event, given the chain before it, or None."""
    number, seq = row.number, row.seq
    if number is None:
        detail = f"事件属于已不存在的办件 (events of missing application id {row.application_id})"
        return _problem(None, seq, "orphan_events", detail)
    if seq != expected:
        detail = f"缺少第 {expected} 条事件 (event {expected} missing, next is {seq})"
        return _problem(number, expected, "seq_gap", detail)
    if row.prev_hash != prev:
        detail = "prev_hash 与上一条事件的哈希不符 (does not chain to the previous event)"
        return _problem(number, seq, "prev_hash_mismatch", detail)
    if event_hash(hashed_fields(row, number), row.prev_hash) != row.hash:
        detail = "事件内容与其哈希不符 (content does not match its hash: edited)"
        return _problem(number, seq, "hash_mismatch", detail)
    return None


def _against_head(last) -> dict | None:
    """The chain's last event against the head kept on the application row."""
    number, seq, recorded = last.number, last.seq, last.last_event_seq
    if recorded > seq:
        detail = f"事件链止于第 {seq} 条, 办件链头为第 {recorded} 条 (chain truncated after {seq})"
        return _problem(number, seq + 1, "truncated", detail)
    if recorded < seq:
        detail = f"办件链头为第 {recorded} 条, 之后另有事件 (events beyond the recorded head)"
        return _problem(number, recorded + 1, "head_mismatch", detail)
    if last.last_event_hash != last.hash:
        return _problem(
            number,
            seq,
            "head_mismatch",
            "办件链头哈希与最后一条事件不符 (head hash differs from the last event)",
        )
    return None


def _cases_without_events() -> list[dict]:
    """Applications whose whole record is gone (every case has at least its submission event)."""
    stmt = (
        select(Application.number, Application.last_event_seq)
        .where(~exists().where(Event.application_id == Application.id))
        .order_by(Application.id)
    )
    return [
        _problem(number, 1, "no_events", f"办件没有任何事件 (no events; recorded head {seq})")
        for number, seq in db.session.execute(stmt)
    ]


def _current_cut() -> int:
    """The newest event id such that every event up to it has committed (0 for none)."""
    with write_transaction() as session:
        if is_postgres():
            # waits for transactions still inserting events; later ones draw higher ids
            session.execute(text("LOCK TABLE events IN SHARE MODE"))
        return session.scalar(select(func.max(Event.id))) or 0


def _digest_of_cut(cut: int) -> tuple[str, int, int]:
    """(digest, cases, events) of the record up to event ``cut``: sha256 over the sorted heads."""
    heads = (
        select(
            Event.application_id,
            func.max(Event.seq).label("seq"),
            func.count().label("events"),
        )
        .where(Event.id <= cut)
        .group_by(Event.application_id)
        .subquery()
    )
    stmt = (
        select(Application.number, Event.application_id, Event.seq, Event.hash, heads.c.events)
        .join(heads, and_(Event.application_id == heads.c.application_id, Event.seq == heads.c.seq))
        .outerjoin(Application, Application.id == Event.application_id)
        .order_by(Application.number, Event.application_id)
        .execution_options(yield_per=BATCH)
    )
    digest, cases, events = hashlib.sha256(), 0, 0
    for number, application_id, seq, head_hash, count in db.session.execute(stmt):
        digest.update(canonical([number or f"#{application_id}", seq, head_hash]) + b"\n")
        cases, events = cases + 1, events + count
    return digest.hexdigest(), cases, events


def _compare_with(saved: AuditCheckpoint) -> str | None:
    """Why the record no longer matches a checkpoint, or None when it still does."""
    digest, cases, events = _digest_of_cut(saved.last_event_id)
    if (digest, cases, events) == (saved.digest, saved.case_count, saved.event_count):
        return None
    return (
        f"检查点 #{saved.id} ({saved.at.isoformat()}) 记录 {saved.case_count} 件 "
        f"{saved.event_count} 条事件, 现存 {cases} 件 {events} 条"
        + ("" if digest == saved.digest else ", 链头摘要不符")
        + " (cases or events before the checkpoint were deleted, truncated or altered)"
    )


def last_checkpoint() -> dict | None:
    """The newest checkpoint (id, at, event_count, case_count), or None before the first."""
    return _summary(_newest_checkpoint())


def _newest_checkpoint() -> AuditCheckpoint | None:
    return db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1))


def _summary(saved: AuditCheckpoint | None) -> dict | None:
    if saved is None:
        return None
    return {
        "id": saved.id,
        "at": saved.at,
        "event_count": saved.event_count,
        "case_count": saved.case_count,
    }


def _problem(number, seq, kind, detail) -> dict:
    return {"application": number, "seq": seq, "kind": kind, "detail": detail}
