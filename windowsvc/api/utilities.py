"""Utilities: working-day deadlines (public) and health probes."""

from flask import Blueprint as FlaskBlueprint
from flask import jsonify
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..services import health
from ..services.applications import due_after
from .auth import PUBLIC, allow
from .problems import problem
from .smorest import Blueprint

blp = Blueprint("calendar", __name__, url_prefix="/api/v1", description="工作日计算")
probes = FlaskBlueprint("probes", __name__)


class DeadlineArgs(Schema):
    start = fields.Date(required=True)
    working_days = fields.Integer(required=True, validate=validate.Range(0, 365))


class DeadlineOut(Schema):
    due_date = fields.Date()


@blp.route("/calendar/deadline")
class Deadline(MethodView):
    @allow(PUBLIC)
    @blp.arguments(DeadlineArgs, location="query")
    @blp.response(200, DeadlineOut)
    def get(self, args):
        """The date a limit of N working days ends, counting from the day after ``start``."""
        return {"due_date": due_after(args["start"], args["working_days"])}


@probes.get("/healthz")
@allow(PUBLIC)
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@probes.get("/readyz")
@allow(PUBLIC)
def readyz():
    """The database is reachable and migrated to head."""
    ok, detail = health.database_ready()
    if not ok:
        return problem(503, "Not ready", detail)
    return jsonify(status="ready", database=detail)
