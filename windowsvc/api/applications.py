"""Applications: intake, detail, listing, staff actions and the lifecycle record."""

from flask import jsonify, make_response, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..platform.errors import PreconditionFailed, PreconditionRequired, ServiceError
from ..platform.policy import allow
from ..rules.warnings import LEVELS
from ..services.cases import actions, applications, intake
from ..workflows.lifecycle import DELIVERY_METHODS, LIFECYCLE, LONGEST_EXTENSION, SUSPENSION_KINDS
from .auth import current_actor
from .schemas import (
    CHANNELS,
    NUMBER_DOC,
    Applicant,
    Deferral,
    Delivery,
    LocalDateTime,
    MaterialRef,
    Page,
    provisional_flag,
)
from .smorest import Blueprint

blp = Blueprint(
    "applications", __name__, url_prefix="/api/v1", description="办件: intake, actions, record"
)
STAFF = ("window", "supervisor", "oversight")


class IntakeIn(Schema):
    item_code = fields.String(required=True, validate=validate.Length(1, 64))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    applicant = fields.Nested(Applicant, required=True)
    materials = fields.List(fields.Nested(MaterialRef), load_default=list)
    deferred = fields.List(fields.Nested(Deferral), load_default=list)
    delivery = fields.Nested(Delivery)


class MaterialOut(Schema):
    code = fields.String()
    name = fields.String()
    source = fields.String()
    evidence_id = fields.String()
    fetched_at = fields.String()
    reason = fields.String()
    commit_date = fields.String()
    supplemented_at = fields.String()
    supplied_at = fields.String(metadata={"description": "容缺: when the deferred material came"})


class StepOut(Schema):
    id = fields.String()
    stage = fields.Integer()
    code = fields.String()
    name = fields.String()
    department = fields.String()
    topic = fields.String()
    state = fields.String()
    due_date = fields.Date(allow_none=True)
    due_date_provisional = provisional_flag()
    outcome = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    result = fields.Dict(allow_none=True)
    missing = fields.List(fields.Dict(), allow_none=True)
    attempt = fields.Integer()
    retries = fields.Integer(allow_none=True)
    error_message = fields.String(allow_none=True)
    completed_at = LocalDateTime(allow_none=True)


class CorrectionLimit(Schema):
    date = fields.Date(metadata={"description": "receipt + 5 working days (Art 32, 视为受理)"})
    provisional = provisional_flag()


class ApplicationOut(Schema):
    number = fields.String(metadata=NUMBER_DOC)
    state = fields.String(metadata={"enum": [s["name"] for s in LIFECYCLE.states]})
    state_label = fields.String()
    item_code = fields.String()
    item_name = fields.String()
    item_version = fields.Integer()
    mode = fields.String()
    channel = fields.String()
    applicant = fields.Dict()
    received_at = LocalDateTime()
    accepted_at = LocalDateTime(allow_none=True)
    acceptance_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    legal_due_date = fields.Date(allow_none=True)
    due_date_provisional = provisional_flag("the promised due date")
    legal_due_date_provisional = provisional_flag("the legal due date")
    deadlines_provisional = provisional_flag("a due date of the case")
    provisional_note = fields.String(
        allow_none=True, metadata={"description": "预计，待国务院公布 N 年节假日安排后确认"}
    )
    correction_limit = fields.Nested(
        CorrectionLimit,
        allow_none=True,
        metadata={"description": "while acceptance is pending: last day for a correction notice"},
    )
    materials = fields.List(fields.Nested(MaterialOut))
    missing_materials = fields.List(fields.Nested(MaterialOut))
    deferred = fields.List(fields.Nested(MaterialOut))
    delivery = fields.Dict(allow_none=True)
    correction = fields.Dict(allow_none=True)
    refusal = fields.Dict(allow_none=True)
    suspensions = fields.List(fields.Dict())
    extension = fields.Dict(allow_none=True)
    withdrawal = fields.Dict(allow_none=True)
    delivery_record = fields.Dict(allow_none=True)
    decision = fields.Dict(allow_none=True, metadata={"description": "outcome, reason, result"})
    steps = fields.List(fields.Nested(StepOut))
    allowed_actions = fields.List(fields.String())
    version = fields.Integer()


class ApplicationCreated(ApplicationOut):
    query_code = fields.String(metadata={"description": "查询密码: shown only in this response"})


# Built once: instantiating a schema deep-copies its fields, too costly per request.
APPLICATION_OUT = ApplicationOut()
APPLICATION_CREATED = ApplicationCreated()


class ApplicationPage(Page):
    items = fields.List(fields.Nested(ApplicationOut))


class ListArgs(Schema):
    state = fields.String(validate=validate.OneOf([s["name"] for s in LIFECYCLE.states]))
    item_code = fields.String()
    department = fields.String()
    warning = fields.String(validate=validate.OneOf(LEVELS))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class EventOut(Schema):
    seq = fields.Integer()
    type = fields.String()
    at = LocalDateTime()
    actor_name = fields.String()
    actor_role = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    details = fields.Dict()
    hash = fields.String()
    prev_hash = fields.String()


def _with_etag(body: dict, status: int, **headers):
    response = make_response(jsonify(body), status)
    response.headers["ETag"] = f'"{body["version"]}"'
    response.headers.update(headers)
    return response


@blp.route("/applications")
class Applications(MethodView):
    @allow("window")
    @blp.arguments(IntakeIn)
    @blp.response(201, ApplicationCreated)
    @blp.doc(
        parameters=[
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "maxLength": 200},
            }
        ],
    )
    def post(self, body):
        """收件 — submit one application; the response carries the acceptance number."""
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 200:
            raise ServiceError("缺少 Idempotency-Key 请求头 (1–200 characters)")
        result = intake.submit(current_actor(), key, body, APPLICATION_CREATED.dump)
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return _with_etag(result.body, 201, **headers)

    @allow(*STAFF, "backoffice")
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ApplicationPage)
    def get(self, args):
        """List applications (newest first), filtered by state, item or department."""
        actor = current_actor()
        rows, total = applications.listing(actor, **args)
        return {
            # personal data only in the (recorded) detail view: listings are masked
            "items": [applications.present(a, actor.role, masked=True) for a in rows],
            "page": args["page"],
            "per_page": args["per_page"],
            "total": total,
        }


@blp.route("/applications/<number:number>")
class ApplicationDetail(MethodView):
    @allow(*STAFF, "backoffice")
    @blp.response(200, ApplicationOut)
    def get(self, number):
        """The full record of one application; ETag carries its version."""
        body = APPLICATION_OUT.dump(applications.read_for_staff(number, current_actor()))
        return _with_etag(body, 200)


class NoticeOut(Schema):
    title = fields.String()
    event = fields.String()
    target = fields.String()
    state = fields.String(metadata={"enum": ["pending", "sending", "sent", "dead"]})
    attempts = fields.Integer()
    created_at = LocalDateTime()
    sent_at = LocalDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)


@blp.route("/applications/<number:number>/notices")
class ApplicationNotices(MethodView):
    @allow(*STAFF)
    @blp.response(200, NoticeOut(many=True))
    def get(self, number):
        """Notices to the applicant and their delivery status (告知书送达凭证)."""
        return applications.notices_of(number, current_actor())


@blp.route("/applications/<number:number>/events")
class ApplicationEvents(MethodView):
    @allow(*STAFF)
    @blp.response(200, EventOut(many=True))
    def get(self, number):
        """The lifecycle record (全过程记录) of one application, oldest first."""
        return applications.lifecycle_record(number, current_actor())


class NoBody(Schema):
    pass


class RequestCorrectionIn(Schema):
    missing = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    note = fields.String(load_default="", validate=validate.Length(max=1000))


class SupplementIn(Schema):
    materials = fields.List(fields.String(), required=True, validate=validate.Length(min=1))


class RefuseIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))
    rights_notice = fields.String(required=True, validate=validate.Length(1, 2000))


class SuspendIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))
    kind = fields.String(required=True, validate=validate.OneOf(SUSPENSION_KINDS))
    expected_days = fields.Integer(required=True, validate=validate.Range(1, 365))


class ResumeIn(Schema):
    result = fields.String(required=True, validate=validate.Length(1, 2000))


class ExtendIn(Schema):
    days = fields.Integer(required=True, validate=validate.Range(1, LONGEST_EXTENSION))
    reason = fields.String(required=True, validate=validate.Length(1, 2000))
    approver = fields.String(required=True, validate=validate.Length(1, 100))


class WithdrawIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class DeliverIn(Schema):
    method = fields.String(required=True, validate=validate.OneOf(DELIVERY_METHODS))
    tracking = fields.String(validate=validate.Length(1, 100))


ACTION_SCHEMAS = {
    "accept": (NoBody, "受理 — accept a complete application."),
    "request_correction": (RequestCorrectionIn, "补正告知 — list everything missing, once."),
    "supplement": (SupplementIn, "补正材料 — record supplemented materials."),
    "refuse": (RefuseIn, "不予受理 — refuse with a reason and the appeal-rights notice."),
    "suspend": (SuspendIn, "特别程序 — pause the clock for a hearing, testing, expert review…"),
    "resume": (ResumeIn, "特别程序结束 — resume with the procedure's result."),
    "extend": (ExtendIn, "延期 — extend the limit once (supervisor)."),
    "withdraw": (WithdrawIn, "撤回 — withdraw before the decision."),
    "deliver": (DeliverIn, "送达 — hand over or send the result."),
    "archive": (NoBody, "归档 — archive a concluded case."),
}


def _if_match() -> int:
    """The version named by If-Match, compared strongly (RFC 9110 13.1.1): a weak tag never
    matches."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired('需要 If-Match: "<version>" (428)')
    if header.startswith("W/"):
        raise PreconditionFailed('If-Match 须为强校验标签 "<version>", 弱标签 W/"…" 不匹配')
    value = header.strip('"')
    if not (header.startswith('"') and header.endswith('"') and value.isascii()):
        raise PreconditionRequired('If-Match 应为 "<version>", 例如 "3"')
    if not value.isdigit() or len(value) > 18:
        raise PreconditionFailed(f"If-Match {header} 不是本件的任何版本")
    return int(value)


def _action_view(action, schema, summary):
    roles = tuple(sorted(LIFECYCLE.actors_of(action)))

    class ActionView(MethodView):
        @allow(*roles)
        @blp.arguments(schema, required=schema is not NoBody)
        @blp.response(200, ApplicationOut)
        @blp.alt_response(409, response="CONFLICT", description="Not allowed in the state")
        @blp.alt_response(412, response="PRECONDITION_FAILED", description="Stale If-Match")
        @blp.alt_response(428, response="PRECONDITION_REQUIRED", description="If-Match missing")
        @blp.doc(
            summary=summary,
            parameters=[
                {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"}}
            ],
        )
        def post(self, payload, number):
            actor = current_actor()
            version = _if_match()
            body = APPLICATION_OUT.dump(actions.perform(number, action, actor, version, payload))
            return _with_etag(body, 200)

    ActionView.__name__ = f"Action_{action}"
    blp.route(f"/applications/<number:number>/actions/{action}", endpoint=f"action_{action}")(
        ActionView
    )


for _action, (_schema, _summary) in ACTION_SCHEMAS.items():
    _action_view(_action, _schema, _summary)
