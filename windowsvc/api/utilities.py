"""Utilities: the working-day calendar (deadlines, notices, coverage) and health probes."""

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app, jsonify
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..platform import health, metrics
from ..platform.policy import PUBLIC, allow
from ..rules.deadlines import EARLIEST, LATEST, MAX_WORKING_DAYS
from ..services.calendar import notices as calendar_admin
from ..services.calendar.working import due_after, provisional_note
from .auth import current_actor
from .problems import problem
from .smorest import Blueprint

blp = Blueprint("calendar", __name__, url_prefix="/api/v1", description="工作日计算")
probes = FlaskBlueprint("probes", __name__)


class DeadlineArgs(Schema):
    start = fields.Date(
        required=True,
        validate=validate.Range(
            EARLIEST,
            LATEST,
            error=f"须在 {EARLIEST} 至 {LATEST} 之间 (between {EARLIEST} and {LATEST})",
        ),
    )
    working_days = fields.Integer(
        required=True,
        validate=validate.Range(
            0,
            MAX_WORKING_DAYS,
            error=f"须在 0 至 {MAX_WORKING_DAYS} 之间 (between 0 and {MAX_WORKING_DAYS})",
        ),
    )


class DeadlineOut(Schema):
    due_date = fields.Date()
    provisional = fields.Boolean(
        metadata={"description": "a year without the official holiday notice went into the date"}
    )
    provisional_note = fields.String(allow_none=True, metadata={"description": "预计 …"})


class YearNoticeIn(Schema):
    holidays = fields.List(fields.Date(), required=True, validate=validate.Length(max=366))
    workdays = fields.List(fields.Date(), load_default=list, validate=validate.Length(max=366))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class RecountOut(Schema):
    cases = fields.Integer(metadata={"description": "cases whose dates changed"})
    deadlines = fields.Integer()
    steps = fields.Integer()
    rectifications = fields.Integer()
    still_provisional = fields.Integer(metadata={"description": "cases still provisional"})


class LoadOut(Schema):
    years = fields.List(fields.Integer())
    days = fields.Integer(metadata={"description": "days off and make-up days in the notice"})
    changed = fields.Boolean(metadata={"description": "false when the same notice was loaded"})
    recounted = fields.Nested(RecountOut)


class YearCoverage(Schema):
    year = fields.Integer()
    official = fields.Boolean()
    source = fields.String(metadata={"enum": ["package", "notice", "configuration", "provisional"]})
    loaded_at = fields.DateTime(allow_none=True)


class LoadHistory(Schema):
    at = fields.DateTime()
    by = fields.String()
    years = fields.List(fields.Integer())
    recounted = fields.Dict()


class CoverageOut(Schema):
    as_of = fields.Date()
    years = fields.List(fields.Nested(YearCoverage))
    next_year_missing_warning = fields.Boolean(
        metadata={"description": "from 1 October: next year's notice is not loaded yet"}
    )
    open_cases_provisional = fields.Integer()
    open_steps_provisional = fields.Integer()
    rectifications_provisional = fields.Integer()
    last_loads = fields.List(fields.Nested(LoadHistory))


@blp.route("/calendar/deadline")
class Deadline(MethodView):
    @allow(PUBLIC)
    @blp.arguments(DeadlineArgs, location="query")
    @blp.response(200, DeadlineOut)
    def get(self, args):
        """The date a limit of N working days ends, counting from the day after ``start``.

        Over a year without the State Council's notice the answer is provisional (weekends and
        statutory holidays only) and says so.
        """
        due = due_after(args["start"], args["working_days"])
        return {
            "due_date": due.date,
            "provisional": due.provisional,
            "provisional_note": provisional_note(args["start"], due.date),
        }


@blp.route("/calendar/years/<int:year>")
class CalendarYear(MethodView):
    @allow("admin")
    @blp.arguments(YearNoticeIn)
    @blp.response(200, LoadOut)
    def put(self, body, year):
        """载入节假日安排 — the State Council's notice for one year; open work is counted again."""
        return calendar_admin.load_year(
            year, body["holidays"], body["workdays"], body["note"], current_actor()
        )


@blp.route("/calendar/coverage")
class Coverage(MethodView):
    @allow("oversight", "admin")
    @blp.response(200, CoverageOut)
    def get(self):
        """日历覆盖 — official and provisional years, and open work still provisional."""
        return calendar_admin.coverage()


@probes.get("/healthz")
@allow(PUBLIC)
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@probes.get("/readyz")
@allow(PUBLIC)
def readyz():
    """The database is reachable and migrated to head, the throttle's Redis (if any) answers,
    and the process is not shutting down; 503 naming what is not."""
    checks, down = health.readiness()
    if down:
        detail = "; ".join(f"{name}: {checks[_CHECK_OF.get(name, name)]}" for name in down)
        return problem(
            503,
            "Not ready",
            f"未就绪 (not ready): {detail}",
            "/problems/not-ready",
            headers={"Retry-After": "5"},
            down=down,
            checks=checks,
        )
    return jsonify(status="ready", **checks)


_CHECK_OF = {"migrations": "database"}


@probes.get("/metrics")
@allow("monitor", "admin")
def metrics_page():
    """Prometheus text exposition (every worker's figures under gunicorn): a ``monitor`` token
    (``windowsvc credentials create --role monitor``) or an admin's."""
    body, content_type = metrics.exposition(current_app)
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
