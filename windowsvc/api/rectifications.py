"""差评整改 work orders: the department's loop (supervisor) and oversight's appeal decisions."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from .. import clock
from ..catalog.versions import item_of
from ..clock import SHANGHAI
from ..platform.policy import allow
from ..rules.masking import mask_applicant
from ..rules.ratings import LEVELS, VERDICTS, tag_labels
from ..services.ratings import rectification_views, rectifications
from ..workflows.rectification import RECTIFICATION
from .applications import NoBody
from .auth import current_actor
from .presenting import computed, seen_by_caller, viewer
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
    level_label = computed(fields.String, lambda r: LEVELS[r.level])
    tags = fields.List(fields.String())
    tag_labels = computed(fields.List, lambda r: tag_labels(r.tags), fields.String())
    comment = fields.String()
    rated_at = LocalDateTime()
    excluded = fields.Boolean(metadata={"description": "申诉成立: out of the statistics"})


class FollowUpOut(Schema):
    contacted_at = LocalDateTime()
    summary = fields.String(attribute="follow_up_summary")
    recorded_at = LocalDateTime(attribute="followed_up_at")


class AppealOut(Schema):
    reason = fields.String(attribute="appeal_reason")
    at = LocalDateTime(attribute="appealed_at")
    upheld = fields.Boolean(allow_none=True, attribute="appeal_upheld")
    decision = fields.String(allow_none=True, attribute="appeal_decision")
    decided_at = LocalDateTime(allow_none=True, attribute="appeal_decided_at")


class RectificationOut(Schema):
    """The staff view: the case, the rating, the loop so far; the rater masked."""

    id = fields.Integer()
    number = fields.String(attribute="application.number")
    item_code = fields.String(attribute="application.item_code")
    item_name = computed(fields.String, lambda o: item_of(o.application).name)
    department = fields.String(metadata={"description": "the responsible department"})
    handling_departments = fields.List(fields.String(), attribute="rating.departments")
    state = fields.String(metadata={"enum": list(RECTIFICATION.labels)})
    state_label = computed(fields.String, lambda o: RECTIFICATION.labels[o.state])
    due_date = fields.Date()
    due_date_provisional = provisional_flag()
    overdue = computed(fields.Boolean, lambda o: rectification_views.is_overdue(o, clock.today()))
    opened_at = LocalDateTime()
    rating = fields.Nested(RatingSeen)
    rater = computed(
        fields.Dict,
        lambda o: mask_applicant(o.application.applicant),
        metadata={"description": "the applicant, masked"},
    )
    # the order itself holds the follow-up and the appeal, once there is one
    follow_up = computed(
        fields.Nested, lambda o: o if o.followed_up_at else None, FollowUpOut, allow_none=True
    )
    measures = fields.String(allow_none=True)
    explanation = fields.String(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)
    appeal = computed(
        fields.Nested, lambda o: o if o.appealed_at else None, AppealOut, allow_none=True
    )
    verdict = fields.String(allow_none=True, metadata={"enum": list(VERDICTS)})
    verdict_label = computed(fields.String, lambda o: VERDICTS.get(o.verdict), allow_none=True)
    allowed_actions = computed(
        fields.List,
        lambda o: rectification_views.allowed_actions(o, viewer()["role"]),
        fields.String(),
    )


class RectificationPage(Page):
    items = fields.List(fields.Nested(RectificationOut))


@blp.route("/rectifications")
class Rectifications(MethodView):
    @allow(*READERS)
    @seen_by_caller()
    @blp.arguments(RectificationListArgs, location="query")
    @blp.response(200, RectificationPage)
    def get(self, args):
        """Work orders of bad ratings, most urgent first (a supervisor sees their department's)."""
        items, total = rectification_views.listing(current_actor(), **args)
        return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}


@blp.route(f"/rectifications/<{ID_PATH}:order_id>")
class RectificationDetail(MethodView):
    @allow(*READERS)
    @seen_by_caller()
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
        @seen_by_caller()
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
