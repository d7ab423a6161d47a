"""Oversight of the lifecycle record (电子监察): is the tamper-evident record still intact?"""

from flask.views import MethodView
from marshmallow import Schema, fields

from ..platform.policy import allow
from ..services.oversight import audit
from .smorest import Blueprint

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="全过程记录防篡改校验")


class AuditProblem(Schema):
    application = fields.String(
        allow_none=True, metadata={"description": "acceptance number; null for the whole record"}
    )
    seq = fields.Integer(allow_none=True, metadata={"description": "the case's first bad event"})
    kind = fields.String(
        metadata={
            "enum": [
                "hash_mismatch",
                "prev_hash_mismatch",
                "seq_gap",
                "truncated",
                "head_mismatch",
                "no_events",
                "orphan_events",
                "checkpoint_mismatch",
            ]
        }
    )
    detail = fields.String()


class CheckpointSummary(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    event_count = fields.Integer()
    case_count = fields.Integer()


class AuditVerifyOut(Schema):
    ok = fields.Boolean()
    checked = fields.Integer(metadata={"description": "events checked"})
    problems = fields.List(fields.Nested(AuditProblem))
    checkpoint = fields.Nested(
        CheckpointSummary, allow_none=True, metadata={"description": "the checkpoint compared"}
    )


@blp.route("/oversight/audit/verify")
class AuditVerify(MethodView):
    @allow("oversight", "admin")
    @blp.response(200, AuditVerifyOut)
    def get(self):
        """Verify every hash chain and the newest checkpoint, naming each case's first bad event."""
        return audit.verify()
