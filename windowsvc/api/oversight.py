"""Oversight (电子监察): warnings and cards, and the service indicators as JSON or CSV."""

from flask import Response
from flask.views import MethodView
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ..platform.policy import allow
from ..rules.scoping import confined_to
from ..rules.warnings import LEVELS
from ..services.oversight import indicators
from ..services.oversight import warnings as oversight
from .auth import current_actor
from .schemas import provisional_flag
from .smorest import Blueprint

blp = Blueprint("oversight", __name__, url_prefix="/api/v1", description="电子监察")


def level_field(description):
    """A warning level, or null."""
    return fields.String(
        allow_none=True, metadata={"enum": list(LEVELS), "description": description}
    )


class WarningsArgs(Schema):
    department = fields.String(
        validate=validate.Length(1, 40),
        metadata={"description": "only this department (a supervisor always sees their own)"},
    )


class CaseWarning(Schema):
    number = fields.String()
    item_code = fields.String()
    item_name = fields.String()
    department = fields.String(metadata={"description": "lead department"})
    state = fields.String()
    instant = fields.Boolean()
    acceptance_date = fields.Date()
    due_date = fields.Date(metadata={"description": "承诺 (promised) due date"})
    legal_due_date = fields.Date(allow_none=True, metadata={"description": "法定 due date"})
    deadlines_provisional = provisional_flag("a due date of the case")
    level = level_field("against the promised due date")
    working_days_left = fields.Integer()
    working_days_over = fields.Integer()
    legal_level = level_field("against the legal due date")
    legal_overdue = fields.Boolean(metadata={"description": "the legal limit has passed"})
    legal_working_days_over = fields.Integer()
    instant_overdue = fields.Boolean(metadata={"description": "即办件 not concluded on its day"})


class StepWarning(Schema):
    id = fields.String()
    number = fields.String()
    stage = fields.Integer()
    code = fields.String()
    name = fields.String()
    department = fields.String()
    state = fields.String()
    due_date = fields.Date()
    due_date_provisional = provisional_flag("the step's due date")
    case_due_date = fields.Date()
    level = level_field("against the step's due date")
    working_days_left = fields.Integer()
    working_days_over = fields.Integer()
    stage_overtime = fields.Boolean(metadata={"description": "环节超时 while the case is on time"})


class RefusalFlag(Schema):
    number = fields.String()
    item_code = fields.String()
    department = fields.String()
    concluded_on = fields.Date(allow_none=True)


class RectificationFlag(Schema):
    id = fields.Integer()
    number = fields.String()
    item_code = fields.String()
    department = fields.String()
    state = fields.String()
    state_label = fields.String()
    due_date = fields.Date()
    due_date_provisional = provisional_flag()
    working_days_over = fields.Integer()


class WarningsOut(Schema):
    as_of = fields.Date()
    warning_days = fields.Integer()
    red_card_days = fields.Integer()
    summary = fields.Dict(keys=fields.String(), values=fields.Integer())
    cases = fields.List(fields.Nested(CaseWarning))
    steps = fields.List(fields.Nested(StepWarning))
    refusals_without_reason = fields.List(fields.Nested(RefusalFlag))
    rectifications_overdue = fields.List(
        fields.Nested(RectificationFlag),
        metadata={"description": "差评整改 work orders still open after their due date"},
    )


class StatsArgs(Schema):
    date_from = fields.Date(data_key="from", metadata={"description": "default: 1st of the month"})
    date_to = fields.Date(data_key="to", metadata={"description": "default: today"})
    group_by = fields.String(
        load_default="department", validate=validate.OneOf(indicators.GROUP_BY)
    )
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))

    @validates_schema
    def from_not_after_to(self, data, **_kwargs):
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError("起始日期不能晚于截止日期 (from is after to)", "from")


class Indicators(Schema):
    accepted = fields.Integer(metadata={"description": "受理量: acceptance date in range"})
    concluded = fields.Integer(metadata={"description": "办结量: concluded in range"})
    concluded_with_limit = fields.Integer(metadata={"description": "of which had a promised limit"})
    on_time = fields.Integer(metadata={"description": "concluded by the promised due date"})
    on_time_rate = fields.Float(allow_none=True, metadata={"description": "按时办结率"})
    average_working_days = fields.Float(allow_none=True)
    promised_compression = fields.Float(allow_none=True, metadata={"description": "承诺期限压缩比"})
    instant_share = fields.Float(allow_none=True, metadata={"description": "即办件比例"})
    zero_trip_rate = fields.Float(allow_none=True, metadata={"description": "跑零次率"})
    one_id_rate = fields.Float(allow_none=True, metadata={"description": "一证通办率"})
    online_rate = fields.Float(allow_none=True, metadata={"description": "网上受理率"})


class GroupIndicators(Indicators):
    group = fields.String(allow_none=True)


class StatsOut(Schema):
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    group_by = fields.String()
    groups = fields.List(fields.Nested(GroupIndicators))
    total = fields.Nested(Indicators)


@blp.route("/oversight/warnings")
class Warnings(MethodView):
    @allow("oversight", "admin", "supervisor")
    @blp.arguments(WarningsArgs, location="query", unknown=RAISE)
    @blp.response(200, WarningsOut)
    def get(self, args):
        """预警/黄牌/红牌 — open cases and steps near or past their limit, and other flags."""
        actor = current_actor()
        confined = confined_to(actor.role, actor.department)  # a supervisor: their own
        department = args.get("department") if confined is None else confined
        return oversight.warnings(department)


@blp.route("/oversight/stats")
class Stats(MethodView):
    @allow("oversight", "admin")
    @blp.doc(
        responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    @blp.arguments(StatsArgs, location="query", unknown=RAISE)
    @blp.response(200, StatsOut)
    def get(self, args):
        """统计指标 — indicators per department, item, channel or window; format=csv for CSV."""
        return stats_answer(args, indicators, "oversight-stats")


def stats_answer(args, service, name: str):
    """Indicators of ``service`` (a module with stats and stats_csv) as JSON, or a CSV file."""
    start, end = indicators.period(args.get("date_from"), args.get("date_to"))
    if args["format"] == "json":
        return service.stats(start, end, args["group_by"])
    text = service.stats_csv(start, end, args["group_by"])
    filename = f"{name}-{args['group_by']}-{start}-{end}.csv"
    return Response(
        text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
