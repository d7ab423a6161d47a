"""行为监控 for oversight: who saw which case's full personal data."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..platform.policy import allow
from ..services.oversight import access
from .schemas import ID_RANGE, LocalDateTime, Page
from .smorest import Blueprint

blp = Blueprint("access", __name__, url_prefix="/api/v1", description="行为监控: access records")


class AccessArgs(Schema):
    number = fields.String(validate=validate.Length(max=60))
    principal_id = fields.Integer(validate=ID_RANGE)
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class AccessOut(Schema):
    number = fields.String()
    principal_id = fields.Integer(allow_none=True)
    principal_name = fields.String()
    role = fields.String()
    department = fields.String(allow_none=True)
    purpose = fields.String(
        metadata={
            "description": (
                "detail (a staff read), record (the case record page) or task (handed out)"
            )
        }
    )
    at = LocalDateTime()


class AccessPage(Page):
    items = fields.List(fields.Nested(AccessOut))


@blp.route("/oversight/access")
class AccessRecords(MethodView):
    @allow("oversight", "admin")
    @blp.arguments(AccessArgs, location="query")
    @blp.response(200, AccessPage)
    def get(self, args):
        """Every staff read of a case's personal data, newest first."""
        items, total = access.listing(**args)
        return {"items": items, "total": total, "page": args["page"], "per_page": args["per_page"]}
