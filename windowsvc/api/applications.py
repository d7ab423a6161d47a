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
from .case_schemas import (
    APPLICATION_OUT,
    ApplicationCreated,
    ApplicationOut,
    ApplicationPage,
    EventOut,
    NoticeOut,
)
from .presenting import etag_of, seen_by_caller
from .schemas import CHANNELS, Applicant, Deferral, Delivery, MaterialRef
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


class ListArgs(Schema):
    state = fields.String(validate=validate.OneOf([s["name"] for s in LIFECYCLE.states]))
    item_code = fields.String()
    department = fields.String()
    warning = fields.String(validate=validate.OneOf(LEVELS))
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


def _receipt(result: intake.IntakeResult, headers: dict):
    """The receipt as first answered, the query code in its place (replays included)."""
    body = {**result.receipt, "query_code": result.query_code}
    response = make_response(jsonify(body), 201)
    response.headers.update(headers)
    return response


@blp.route("/applications")
class Applications(MethodView):
    @allow("window")
    @seen_by_caller(personal_data=True)
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
        # the receipt (ApplicationCreated but the query code) is dumped once, with the case
        result = intake.submit(current_actor(), key, body, APPLICATION_OUT.dump)
        headers = {"ETag": f'"{result.receipt["version"]}"'}
        if result.replayed:
            headers["Idempotent-Replayed"] = "true"
        return _receipt(result, headers)

    @allow(*STAFF, "backoffice")
    @seen_by_caller()  # personal data only in the (recorded) detail view: listings are masked
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ApplicationPage)
    def get(self, args):
        """List applications (newest first), filtered by state, item or department."""
        rows, total = applications.listing(current_actor(), **args)
        return {
            "items": rows,
            "page": args["page"],
            "per_page": args["per_page"],
            "total": total,
        }


@blp.route("/applications/<number:number>")
class ApplicationDetail(MethodView):
    @allow(*STAFF, "backoffice")
    @seen_by_caller(personal_data=True)
    @blp.response(200, ApplicationOut)
    def get(self, number):
        """The full record of one application; ETag carries its version."""
        application = applications.read_for_staff(number, current_actor())
        return application, etag_of(application)


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
        @seen_by_caller(personal_data=True)
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
            version = _if_match()
            application = actions.perform(number, action, current_actor(), version, payload)
            return application, etag_of(application)

    ActionView.__name__ = f"Action_{action}"
    blp.route(f"/applications/<number:number>/actions/{action}", endpoint=f"action_{action}")(
        ActionView
    )


for _action, (_schema, _summary) in ACTION_SCHEMAS.items():
    _action_view(_action, _schema, _summary)
