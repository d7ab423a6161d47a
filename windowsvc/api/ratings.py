"""好差评: the applicant's rating and verdict (number + query code); the oversight indicators."""

from flask.views import MethodView
from marshmallow import RAISE, Schema, fields, validate

from ..platform.policy import PUBLIC, allow
from ..platform.throttle import query_code_limited
from ..rules.ratings import VERDICTS
from ..services.ratings import indicators as rating_indicators
from ..services.ratings import ratings
from .oversight import StatsArgs, stats_answer
from .schemas import ID_PATH, RatingOut
from .smorest import Blueprint
from .status import StatusIn

blp = Blueprint("ratings", __name__, url_prefix="/api/v1", description="好差评 (ratings)")


class RatingIn(StatusIn):
    level = fields.Integer(
        required=True,
        validate=validate.Range(1, 5),
        metadata={"description": "5 非常满意 · 4 满意 · 3 基本满意 · 2 不满意 · 1 非常不满意"},
    )
    tags = fields.List(
        fields.String(validate=validate.Length(1, 40)),
        load_default=list,
        validate=validate.Length(max=10),
        metadata={
            "description": "window: efficiency, service_level, attitude; online, mobile, "
            "self_service: efficiency, guide_accuracy, convenience, usability"
        },
    )
    comment = fields.String(load_default="", validate=validate.Length(max=1000))


class VerdictIn(StatusIn):
    level = fields.String(
        required=True, validate=validate.OneOf(VERDICTS), metadata={"description": "整改评价"}
    )


@blp.route("/ratings")
class Ratings(MethodView):
    decorators = [query_code_limited]

    @allow(PUBLIC)
    @blp.arguments(RatingIn)
    @blp.response(201, RatingOut)
    @blp.alt_response(404, description="Unknown number or wrong query code (indistinguishable)")
    @blp.alt_response(409, description="Not concluded yet, or rated already (一事一评)")
    @blp.alt_response(429, description="Too many failed attempts; see Retry-After")
    def post(self, body):
        """评价 — rate a concluded case once; levels 1–2 need a tag or a comment."""
        return ratings.give(
            body["number"], body["query_code"], body["level"], body["tags"], body["comment"]
        )


@blp.route(f"/ratings/<{ID_PATH}:rating_id>/rectification-rating")
class RectificationVerdict(MethodView):
    decorators = [query_code_limited]

    @allow(PUBLIC)
    @blp.arguments(VerdictIn)
    @blp.response(200, RatingOut)
    @blp.alt_response(404, description="Unknown number, wrong query code or no such rectification")
    @blp.alt_response(409, description="The rectification is not closed yet, or was rated")
    @blp.alt_response(429, description="Too many failed attempts; see Retry-After")
    def post(self, body, rating_id):
        """整改评价 — the rater's verdict on the closed rectification of a bad rating."""
        return ratings.rate_rectification(
            rating_id, body["number"], body["query_code"], body["level"]
        )


class RatingIndicators(Schema):
    ratings = fields.Integer(metadata={"description": "given in range, excluded ones included"})
    valid = fields.Integer(metadata={"description": "not excluded by an upheld appeal"})
    excluded = fields.Integer(metadata={"description": "申诉成立: out of the statistics"})
    default = fields.Integer(metadata={"description": "默认好评 among the valid ratings"})
    good = fields.Integer(metadata={"description": "valid, levels 4–5"})
    bad = fields.Integer(metadata={"description": "valid, levels 1–2"})
    rectified = fields.Integer(metadata={"description": "bad, rectification closed after 回访"})
    followed_up = fields.Integer(metadata={"description": "bad, 回访 recorded"})
    rectifications_overdue = fields.Integer(metadata={"description": "open past their due date"})
    distribution = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "level → valid"}
    )
    concluded = fields.Integer(metadata={"description": "rateable cases concluded in range"})
    rated = fields.Integer(metadata={"description": "of which rated by the applicant"})
    good_rate = fields.Float(allow_none=True, metadata={"description": "好评率"})
    bad_rate = fields.Float(allow_none=True, metadata={"description": "差评率"})
    rating_rate = fields.Float(allow_none=True, metadata={"description": "主动评价率"})
    rectification_rate = fields.Float(allow_none=True, metadata={"description": "差评整改率"})
    follow_up_rate = fields.Float(allow_none=True, metadata={"description": "回访率"})


class GroupRatingIndicators(RatingIndicators):
    group = fields.String(allow_none=True)


class RatingStatsOut(Schema):
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    group_by = fields.String()
    groups = fields.List(fields.Nested(GroupRatingIndicators))
    total = fields.Nested(RatingIndicators)


@blp.route("/oversight/ratings")
class RatingStats(MethodView):
    @allow("oversight", "admin")
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    @blp.arguments(StatsArgs, location="query", unknown=RAISE)
    @blp.response(200, RatingStatsOut)
    def get(self, args):
        """好差评统计 — distribution and rates per department, item, window or channel."""
        return stats_answer(args, rating_indicators, "oversight-ratings")
