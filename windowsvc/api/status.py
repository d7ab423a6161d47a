"""Citizens' status lookup (办件查询): number + query code, never in a URL, throttled on failure."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..platform.policy import PUBLIC, allow
from ..platform.throttle import query_code_limited
from ..services.cases import status
from .presenting import computed
from .schemas import NUMBER_DOC, AttributeSchema, LocalDateTime, RatingOut, provisional_flag
from .smorest import Blueprint

blp = Blueprint("status", __name__, url_prefix="/api/v1", description="办件查询 (citizens)")


class StatusIn(Schema):
    number = fields.String(required=True, validate=validate.Length(1, 60), metadata=NUMBER_DOC)
    query_code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$"))


class TimelineEntry(AttributeSchema):
    at = LocalDateTime()
    label = fields.String()


class ProgressEntry(AttributeSchema):
    stage = fields.Integer()
    department = fields.String()
    step = fields.String()
    state = fields.String()
    state_label = fields.String()
    finished_on = fields.Date(allow_none=True)


class StatusOut(AttributeSchema):
    number = fields.String()
    item_name = fields.String()
    state = fields.String()
    state_label = fields.String()
    applicant = fields.Dict(metadata={"description": "masked"})
    received_at = LocalDateTime()
    accepted_at = LocalDateTime(allow_none=True)
    due_date = fields.Date(allow_none=True)
    due_date_provisional = provisional_flag("the due date")
    provisional_note = fields.String(
        allow_none=True, metadata={"description": "预计，待国务院公布 N 年节假日安排后确认"}
    )
    missing_materials = fields.List(fields.String())
    progress = fields.Nested(ProgressEntry, many=True)
    timeline = fields.Nested(TimelineEntry, many=True)
    result = computed(
        fields.Dict, lambda s: s.result._asdict() if s.result else None, allow_none=True
    )
    can_rate = fields.Boolean()
    rating = fields.Nested(RatingOut, allow_none=True)


@blp.route("/status")
class Status(MethodView):
    decorators = [query_code_limited]

    @allow(PUBLIC)
    @blp.arguments(StatusIn)
    @blp.response(200, StatusOut)
    @blp.alt_response(404, description="Unknown number or wrong query code (indistinguishable)")
    @blp.alt_response(429, description="Too many failed lookups; see Retry-After")
    def post(self, body):
        """The public progress of an application (masked personal data)."""
        return status.lookup(body["number"], body["query_code"])
