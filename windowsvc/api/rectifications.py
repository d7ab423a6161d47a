"""差评整改 work orders: the department's loop (supervisor) and oversight's appeal decisions."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..clock import SHANGHAI
from ..platform.policy import allow
from ..rules.ratings import VERDICTS
from ..services.ratings import rectification_views, rectifications
from ..workflows.rectification import RECTIFICATION
from .applications import NoBody
from .auth import current_actor
from .schemas import ID_PATH, LocalDateTime, Page, provisional_flag
from .smorest import Blueprint

blp = Blueprint(
    "rectifications", __name__, url_prefix="/api/v1", description="差评整改 (rating follow-up)"
)
READERS = ("supervisor", "oversight", "admin")


class RectificationListArgs(Schema):
    state = fields.String(validate=validate.OneOf(list(RECTIFICATION.labels)))
    department = fields.String(
        validate=validate.Length(1, 40),
        metadata={"description": "oversight only: a supervisor always sees their own department"},
    )
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class RatingSeen(Schema):
    id = fields.Integer()
    level = fields.Integer()
    level_label = fields.String()
    tags = fields.List(fields.String())
    tag_labels = fields.List(fields.String())
    comment = fields.String()
    rated_at = LocalDateTime()
    excluded = fields.Boolean(metadata={"description": "申诉成立: out of the statistics"})


class FollowUpOut(Schema):
    contacted_at = LocalDateTime()
    summary = fields.String()
    recorded_at = LocalDateTime()


class AppealOut(Schema):
    reason = fields.String()
    at = LocalDateTime()
    upheld = fields.Boolean(allow_none=True)
    decision = fields.String(allow_none=True)
    decided_at = LocalDateTime(allow_none=True)


class RectificationOut(Schema):
    id = fields.Integer()
    number = fields.String()
    item_code = fields.String()
    item_name = fields.String()
    department = fields.String(metadata={"description": "the responsible department"})
    handling_departments = fields.List(fields.String())
    state = fields.String(metadata={"enum": list(RECTIFICATION.labels)})
    state_label = fields.String()
    due_date = fields.Date()
    due_date_provisional = provisional_flag()
    overdue = fields.Boolean()
    opened_at = LocalDateTime()
    rating = fields.Nested(RatingSeen)
    rater = fields.Dict(metadata={"description": "the applicant, masked"})
    follow_up = fields.Nested(FollowUpOut, allow_none=True)
    measures = fields.String(allow_none=True)
    explanation = fields.String(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)
    appeal = fields.Nested(AppealOut, allow_none=True)
    verdict = fields.String(allow_none=True, metadata={"enum": list(VERDICTS)})
    verdict_label = fields.String(allow_none=True)
    allowed_actions = fields.List(fields.String())


class RectificationPage(Page):
    items = fields.List(fields.Nested(RectificationOut))


@blp.route("/rectifications")
class Rectifications(MethodView):
    @allow(*READERS)
    @blp.arguments(RectificationListArgs, location="query")
    @blp.response(200, RectificationPage)
    def get(self, args):
        """Work orders of bad ratings, most urgent first (a supervisor sees their department's)."""
        items, total = rectification_views.listing(current_actor(), **args)
        return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


@blp.route(f"/rectifications/<{ID_PATH}:order_id>")
class RectificationDetail(MethodView):
    @allow(*READERS)
    @blp.response(200, RectificationOut)
    def get(self, order_id):
        """One work order."""
        return rectification_views.detail(order_id, current_actor())


class FollowUpIn(Schema):
    contacted_at = fields.AwareDateTime(
        required=True,
        default_timezone=SHANGHAI,
        metadata={"description": "when the rater was called (回访); Asia/Shanghai if no offset"},
    )
    summary = fields.String(required=True, validate=validate.Length(1, 2000))


class RectifyIn(Schema):
    measures = fields.String(required=True, validate=validate.Length(1, 4000))


class ExplainIn(Schema):
    explanation = fields.String(required=True, validate=validate.Length(1, 4000))


class AppealIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class DecideAppealIn(Schema):
    upheld = fields.Boolean(required=True, truthy={True}, falsy={False})
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


ACTION_SCHEMAS = {
    "follow_up": (FollowUpIn, "回访 — record the call to the rater (required first)."),
    "rectify": (RectifyIn, "整改 — record the measures taken."),
    "explain": (ExplainIn, "解释说明 — explain why nothing can be changed."),
    "close": (NoBody, "办结 — close after rectification or explanation; the rater is told."),
    "appeal": (AppealIn, "申诉 — the department contests the rating (once, after 回访)."),
    "decide_appeal": (DecideAppealIn, "复核 — oversight upholds (rating excluded) or rejects."),
}


def _action_view(action, schema, summary):
    roles = tuple(sorted(RECTIFICATION.actors_of(action)))

    class ActionView(MethodView):
        @allow(*roles)
        @blp.arguments(schema, required=schema is not NoBody)
        @blp.response(200, RectificationOut)
        @blp.alt_response(404, description="Unknown work order, or another department's")
        @blp.alt_response(409, description="Not allowed in the current state")
        @blp.doc(summary=summary)
        def post(self, payload, order_id):
            return rectifications.perform(order_id, action, current_actor(), payload)

    ActionView.__name__ = f"Rectification_{action}"
    blp.route(
        f"/rectifications/<{ID_PATH}:order_id>/actions/{action}", endpoint=f"rectification_{action}"
    )(ActionView)


for _action, (_schema, _summary) in ACTION_SCHEMAS.items():
    _action_view(_action, _schema, _summary)
