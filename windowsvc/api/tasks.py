"""Back-office tasks: departments fetch, lock and report on their steps (native API)."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..platform.policy import allow
from ..services.queue import claims, tasks
from ..workflows.step import OUTCOMES
from .auth import current_actor
from .case_schemas import StepOut
from .schemas import LocalDateTime, provisional_flag
from .smorest import Blueprint

blp = Blueprint("tasks", __name__, url_prefix="/api/v1", description="后台办理: task queue")
WORKER_ID = validate.Length(1, 200)


class FetchIn(Schema):
    worker_id = fields.String(required=True, validate=WORKER_ID)
    max_tasks = fields.Integer(load_default=1, validate=validate.Range(1, 100))
    lock_seconds = fields.Float(load_default=300, validate=validate.Range(1, 86400))
    topics = fields.List(fields.String(validate=validate.Length(1, 100)), load_default=list)
    wait_seconds = fields.Float(load_default=0, validate=validate.Range(0, 30))


class TaskApplication(Schema):
    number = fields.String()
    item_code = fields.String()
    item_version = fields.Integer()
    item_name = fields.String()
    channel = fields.String()
    applicant = fields.Dict()
    materials = fields.List(fields.Dict())
    deferred = fields.List(fields.Dict())
    accepted_at = LocalDateTime(allow_none=True)
    due_date = fields.Date(allow_none=True)
    due_date_provisional = provisional_flag("the case's promised due date")


class TaskStep(Schema):
    code = fields.String()
    name = fields.String()
    stage = fields.Integer()
    member_item = fields.String(allow_none=True)


class TaskOut(Schema):
    id = fields.String()
    topic = fields.String()
    application = fields.Nested(TaskApplication)
    step = fields.Nested(TaskStep)
    lock_expires_at = LocalDateTime()
    attempt = fields.Integer()
    retries = fields.Integer(allow_none=True)
    priority = fields.Integer()
    due_date = fields.Date(allow_none=True)
    due_date_provisional = provisional_flag("the step's due date")


class CompleteIn(Schema):
    worker_id = fields.String(required=True, validate=WORKER_ID)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    comment = fields.String(validate=validate.Length(max=4000))
    result = fields.Dict(load_default=dict)
    missing = fields.List(fields.String(), load_default=list)
    attempt = fields.Integer(
        validate=validate.Range(1, 2**31 - 1),
        metadata={"description": "the attempt the task was handed out with (fencing token)"},
    )
    # a deny needs a reason and a correction its missing materials: the step workflow's guards


class FailureIn(Schema):
    worker_id = fields.String(required=True, validate=WORKER_ID)
    error_message = fields.String(required=True, validate=validate.Length(1, 4000))
    error_details = fields.String(validate=validate.Length(max=100_000))
    retries = fields.Integer(required=True, validate=validate.Range(0, 1000))
    retry_seconds = fields.Float(load_default=0, validate=validate.Range(0, 86400))


class ExtendLockIn(Schema):
    worker_id = fields.String(required=True, validate=WORKER_ID)
    lock_seconds = fields.Float(required=True, validate=validate.Range(1, 86400))


class UnlockIn(Schema):
    worker_id = fields.String(required=True, validate=WORKER_ID)


class RetriesIn(Schema):
    retries = fields.Integer(required=True, validate=validate.Range(1, 1000))


class IncidentOut(StepOut):
    application_number = fields.String(attribute="application.number")


@blp.route("/tasks/fetch-and-lock")
class FetchAndLock(MethodView):
    @allow("backoffice")
    @blp.arguments(FetchIn)
    @blp.response(200, TaskOut(many=True))
    def post(self, body):
        """Lock up to max_tasks steps of the caller's department (long poll with wait_seconds)."""
        lease = claims.Lease(
            body["worker_id"], body["max_tasks"], body["lock_seconds"], tuple(body["topics"])
        )
        return claims.fetch_and_lock(current_actor(), lease, body["wait_seconds"])


@blp.route("/tasks/<task_id>/complete")
class Complete(MethodView):
    @allow("backoffice")
    @blp.arguments(CompleteIn)
    @blp.response(204)
    @blp.alt_response(409, description="The caller holds no live lock on the task")
    def post(self, body, task_id):
        """Report the step's outcome: approve, deny (with a reason) or correction (with missing)."""
        tasks.complete(task_id, current_actor(), **body)


@blp.route("/tasks/<task_id>/failure")
class Failure(MethodView):
    @allow("backoffice")
    @blp.arguments(FailureIn)
    @blp.response(204)
    def post(self, body, task_id):
        """Report a technical failure; retries 0 raises an incident."""
        tasks.failure(task_id, current_actor(), **body)


@blp.route("/tasks/<task_id>/extend-lock")
class ExtendLock(MethodView):
    @allow("backoffice")
    @blp.arguments(ExtendLockIn)
    @blp.response(204)
    def post(self, body, task_id):
        """Extend the caller's live lease."""
        tasks.extend_lock(task_id, current_actor(), **body)


@blp.route("/tasks/<task_id>/unlock")
class Unlock(MethodView):
    @allow("backoffice")
    @blp.arguments(UnlockIn)
    @blp.response(204)
    def post(self, body, task_id):
        """Give the step back to the queue."""
        tasks.unlock(task_id, current_actor(), body["worker_id"])


@blp.route("/tasks/<task_id>/retries")
class Retries(MethodView):
    @allow("supervisor", "admin")
    @blp.arguments(RetriesIn)
    @blp.response(204)
    def post(self, body, task_id):
        """Resolve an incident: the step becomes fetchable with the given retries."""
        tasks.set_retries(task_id, current_actor(), body["retries"])


@blp.route("/incidents")
class Incidents(MethodView):
    @allow("supervisor", "oversight", "admin")
    @blp.response(200, IncidentOut(many=True))
    def get(self):
        """Steps whose retries are exhausted, waiting for an operator."""
        return tasks.incidents(current_actor())
