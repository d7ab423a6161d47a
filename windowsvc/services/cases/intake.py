"""收件 — intake: one application, one unified acceptance number, one query code."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ... import clock
from ...adapters.evidence import EvidenceUnavailable
from ...db import is_postgres, write_transaction
from ...extensions import db
from ...models import Application, NumberSequence
from ...platform.context import adapters, setting
from ...platform.errors import Conflict, Invalid, Unavailable
from ...rules import acceptance_number, materials
from ...rules.identity import identity_problem
from ...security import new_query_code, query_code_hash
from ...workflows.lifecycle import LIFECYCLE
from ..admin import catalog
from ..calendar.working import due_after
from . import corrections, idempotency, steps
from .lookup import BY_NUMBER
from .records import Actor, record

ON_THE_SPOT_CHANNELS = {"window"}
_INSERT_APPLICATION = insert(Application).returning(Application)


@dataclass(frozen=True)
class IntakeResult:
    """The case an Idempotency-Key stands for, and whether this request only replayed it.

    ``receipt`` is what the caller's ``snapshot`` made of the case when it was created, stored
    with the key and handed back unchanged on every replay; the query code (查询密码) is given
    on each answer for the key, and stored only sealed.
    """

    application: Application
    query_code: str
    replayed: bool
    receipt: Any

    @property
    def number(self) -> str:
        """The unified acceptance number (统一受理号)."""
        return self.application.number


KEY_IN_PROGRESS = "同一 Idempotency-Key 的申请正在处理中, 请稍后重试 (request in progress)"


def submit(
    actor: Actor, key: str, body: dict, snapshot: Callable[[Application], Any]
) -> IntakeResult:
    """Receive an application exactly once per Idempotency-Key.

    ``snapshot`` turns the created case into the JSON-able receipt stored with the key (in the
    transaction that creates the case) and replayed for the key; intake never looks inside it.
    While an attempt runs it holds a live claim on the key (409 for a concurrent duplicate); the
    key row is written only in the transaction that creates the case. A crashed or disconnected
    attempt therefore leaves nothing behind but a freed claim, and the retry goes ahead at once.
    """
    request_hash = idempotency.fingerprint(body)
    replay = idempotency.stored_response(actor, key, request_hash)
    if replay is not None:
        return _replayed(replay)
    with idempotency.claim(actor.id, key) as running_alone:
        if not running_alone:
            raise Conflict(KEY_IN_PROGRESS)
        replay = idempotency.stored_response(actor, key, request_hash)  # finished just before
        if replay is not None:
            return _replayed(replay)
        prepared = _prepare(body)  # outside calls: before the write transaction, never in it
        try:
            with write_transaction():
                application, query_code = _create(actor, body, prepared)
                receipt = snapshot(application)
                idempotency.remember(
                    actor, key, request_hash, application.number, query_code, receipt
                )
        except IntegrityError:
            # the claim was lost (e.g. a database restart) and another attempt recorded the key
            # first: its case stands, this one was rolled back
            replay = idempotency.stored_response(actor, key, request_hash)
            if replay is None:
                raise
            return _replayed(replay)
        return IntakeResult(application, query_code, False, receipt)


def _replayed(replay: idempotency.Replay) -> IntakeResult:
    application = db.session.scalar(BY_NUMBER, {"number": replay.number})
    return IntakeResult(application, replay.query_code, True, replay.receipt)


@dataclass
class Prepared:
    """Everything intake works out before it opens its write transaction."""

    item: object
    fetched: list
    missing: list
    deferred: list
    one_id: bool


def _prepare(body):
    """Check the request against the item and fetch shared-data materials (no transaction held)."""
    item = catalog.latest(body["item_code"])
    if item is None:
        raise Invalid(f"事项 {body['item_code']} 不存在", {"item_code": ["unknown service item"]})
    definition = item.definition
    errors = {}
    applicant = body["applicant"]
    problem = identity_problem(applicant["id_type"], applicant["id_number"])
    if problem:
        errors["applicant.id_number"] = [problem]
    handed_in = [m["code"] for m in body.get("materials", [])]
    unknown = materials.unknown_codes(definition, handed_in)
    if unknown:
        errors["materials"] = [f"该事项没有材料 {', '.join(unknown)}"]
    deferred = body.get("deferred", [])
    promised = due_after(clock.today(), item.promised_days) if deferred else None
    checks = materials.check_deferrals(
        definition,
        deferred,
        promised and promised.date,
        clock.today(),
        provisional=bool(promised and promised.provisional),
    )
    for code, message in checks.items():
        errors.setdefault("deferred", []).append(f"{code}: {message}")
    delivery = body.get("delivery")
    if delivery:
        if delivery["method"] not in definition["delivery_methods"]:
            errors["delivery.method"] = ["该事项不支持此送达方式"]
        if delivery["method"] == "express" and not (delivery.get("address") or "").strip():
            errors["delivery.address"] = ["快递送达须填写收件地址"]
    if deferred and not errors:
        try:
            flagged = adapters().evidence.untrustworthy(applicant)
        except EvidenceUnavailable as exc:
            errors["deferred"] = [f"无法核查信用情况, 不能容缺受理: {exc.reason}"]
        else:
            if flagged:
                errors["deferred"] = [
                    "申请人列入失信名单, 不适用容缺受理 (untrustworthy applicant)"
                ]
    if errors:
        raise Invalid("申请内容有误, 请修改后重新提交", errors)

    fetched, reasons = [], {}
    source = adapters().evidence
    present_codes = set(handed_in) | {d["code"] for d in deferred}
    for material in definition["materials"]:
        if not material.get("evidence") or not material["required"]:
            continue
        if material["code"] in present_codes:
            continue
        try:
            evidence = source.fetch(material["evidence"], applicant)
        except EvidenceUnavailable as exc:
            reasons[material["code"]] = exc.reason
            continue
        fetched.append(
            {
                "code": material["code"],
                "name": material["name"],
                "source": evidence.source,
                "evidence_id": evidence.evidence_id,
                "fetched_at": evidence.fetched_at.isoformat(),
            }
        )
    missing = materials.missing_materials(
        definition,
        set(handed_in),
        {f["code"] for f in fetched},
        {d["code"] for d in deferred},
        reasons,
    )
    backed = {m["code"] for m in definition["materials"] if m["required"] and m.get("evidence")}
    one_id = bool(backed) and backed <= {f["code"] for f in fetched}
    return Prepared(item, fetched, missing, deferred, one_id)


def _create(actor, body, prepared) -> tuple[Application, str]:
    """The case and its query code (in clear: the only moment it exists so)."""
    received_at = clock.now()
    desk_date = clock.local(received_at).date()
    region = setting("REGION_CODE")
    number = acceptance_number.compose(
        region, desk_date, body["channel"], _next_sequence(region, desk_date, body["channel"])
    )
    query_code = new_query_code()
    by_code = {m["code"]: m for m in prepared.item.definition["materials"]}
    handed_in = [
        {"code": m["code"], "name": by_code[m["code"]]["name"], "source": "applicant"}
        for m in body.get("materials", [])
    ]
    values = dict(
        number=number,
        query_code_hash=query_code_hash(setting("SECRET_KEY"), number, query_code),
        item_id=prepared.item.id,
        item_code=prepared.item.code,
        item_version=prepared.item.version,
        region_code=region,
        channel=body["channel"],
        state=LIFECYCLE.initial,
        applicant=body["applicant"],
        materials=handed_in + prepared.fetched,
        missing=prepared.missing,
        deferred=[
            {**d, "name": by_code[d["code"]]["name"], "commit_date": d["commit_date"].isoformat()}
            for d in prepared.deferred
        ],
        delivery=body.get("delivery"),
        delivery_method=(body.get("delivery") or {}).get("method"),
        one_id=prepared.one_id,
        details={},
        received_at=received_at,
        received_by_id=actor.id,
        version=1,
        updated_at=received_at,
    )
    # one INSERT ... RETURNING through the ORM: the case comes back persistent, with its id,
    # and what the use case changes afterwards is written by one UPDATE when it flushes
    application = db.session.scalars(_INSERT_APPLICATION, [values]).one()
    # a new case has no steps: its stages add to a loaded collection, not to a lazy read
    set_committed_value(application, "steps", [])
    record(
        application,
        "application.received",
        by=actor,
        to_state=application.state,
        details={
            "item": f"{application.item_code}@{application.item_version}",
            "channel": application.channel,
            "handed_in": [m["code"] for m in handed_in],
            "fetched": [
                {k: f[k] for k in ("code", "source", "evidence_id")} for f in prepared.fetched
            ],
            "deferred": [d["code"] for d in prepared.deferred],
        },
    )
    if body["channel"] in ON_THE_SPOT_CHANNELS:
        if prepared.missing:
            corrections.notice(
                application, actor, prepared.missing, "窗口收件时一次性告知", on_the_spot=True
            )
        else:
            steps.accept_and_start(application, actor)
    db.session.flush()
    return application, query_code


def _sequence_statement(dialect):
    """INSERT ... ON CONFLICT DO UPDATE ... RETURNING the sequence's new value (bound values)."""
    return (
        dialect.insert(NumberSequence)
        .values(
            region_code=bindparam("region_code"),
            desk_date=bindparam("desk_date"),
            channel_digit=bindparam("channel_digit"),
            last_value=1,
        )
        .on_conflict_do_update(
            index_elements=["region_code", "desk_date", "channel_digit"],
            set_={"last_value": NumberSequence.last_value + 1},
        )
        .returning(NumberSequence.last_value)
    )


# built once per dialect (both speak ON CONFLICT): intake binds the values
_NEXT_SEQUENCE = {
    "postgresql": _sequence_statement(postgresql),
    "sqlite": _sequence_statement(sqlite),
}


def _next_sequence(region, desk_date, channel):
    """The next sequence number for region, date and channel: atomic, unique under concurrency."""
    statement = _NEXT_SEQUENCE["postgresql" if is_postgres() else "sqlite"]
    value = (
        db.session.connection()
        .execute(
            statement,
            {
                "region_code": region,
                "desk_date": f"{desk_date:%Y%m%d}",
                "channel_digit": acceptance_number.CHANNEL_DIGITS[channel],
            },
        )
        .scalar_one()
    )
    if value > acceptance_number.MAX_SEQUENCE:
        raise Unavailable("今日该渠道受理号已用尽 (daily sequence exhausted)")
    return value
