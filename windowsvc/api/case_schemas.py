"""What the API answers about a case: the staff view, its steps, notices and lifecycle record.

The schemas dump the rows the services return; derived values (labels, the rules' answers, the
caller's allowed actions, masking) are computed here, from the services' public queries.
"""

from marshmallow import Schema, fields

from ..catalog.versions import item_of
from ..rules.masking import mask_applicant
from ..services.cases import applications
from ..workflows.lifecycle import LIFECYCLE
from .presenting import computed, viewer
from .schemas import NUMBER_DOC, AttributeSchema, LocalDateTime, Page, provisional_flag


class MaterialOut(Schema):
    code = fields.String()
    name = fields.String()
    source = fields.String()
    evidence_id = fields.String()
    fetched_at = fields.String()
    reason = fields.String()
    commit_date = fields.String()
    supplemented_at = fields.String()
    supplied_at = fields.String(metadata={"description": "容缺: when the deferred material came"})


class StepOut(AttributeSchema):
    id = fields.String()
    stage = fields.Integer()
    code = fields.String()
    name = fields.String()
    department = fields.String()
    topic = fields.String()
    state = fields.String()
    due_date = fields.Date(allow_none=True)
    due_date_provisional = provisional_flag()
    outcome = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    result = fields.Dict(allow_none=True)
    missing = fields.List(fields.Dict(), allow_none=True)
    attempt = fields.Integer()
    retries = fields.Integer(allow_none=True)
    error_message = fields.String(allow_none=True)
    completed_at = LocalDateTime(allow_none=True)


class CorrectionLimit(Schema):
    date = fields.Date(metadata={"description": "receipt + 5 working days (Art 32, 视为受理)"})
    provisional = provisional_flag()


def _detail(name, default=None):
    """A record the actions keep in ``details`` (correction, refusal, extension...)."""
    return lambda a: (a.details or {}).get(name, default() if default else None)


def _applicant(application):
    """Personal data in clear only in a detail view (whose read is recorded); masked elsewhere."""
    if viewer()["personal_data"]:
        return application.applicant
    return mask_applicant(application.applicant)


class ApplicationOut(AttributeSchema):
    number = fields.String(metadata=NUMBER_DOC)
    state = fields.String(metadata={"enum": [s["name"] for s in LIFECYCLE.states]})
    state_label = computed(fields.String, lambda a: LIFECYCLE.labels[a.state])
    item_code = fields.String()
    item_name = computed(fields.String, lambda a: item_of(a).name)
    item_version = fields.Integer()
    mode = computed(fields.String, lambda a: item_of(a).mode)
    channel = fields.String()
    applicant = computed(fields.Dict, _applicant)
    received_at = LocalDateTime()
    accepted_at = LocalDateTime(allow_none=True)
    acceptance_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    legal_due_date = fields.Date(allow_none=True)
    due_date_provisional = provisional_flag("the promised due date")
    legal_due_date_provisional = provisional_flag("the legal due date")
    deadlines_provisional = provisional_flag(
        "a due date of the case", lambda a: applications.deadline_flags(a)["deadlines_provisional"]
    )
    provisional_note = computed(
        fields.String,
        lambda a: applications.deadline_flags(a)["provisional_note"],
        allow_none=True,
        metadata={"description": "预计，待国务院公布 N 年节假日安排后确认"},
    )
    correction_limit = computed(
        fields.Nested,
        applications.correction_limit,
        CorrectionLimit,
        allow_none=True,
        metadata={"description": "while acceptance is pending: last day for a correction notice"},
    )
    materials = fields.List(fields.Nested(MaterialOut))
    missing_materials = fields.List(fields.Nested(MaterialOut), attribute="missing")
    deferred = fields.List(fields.Nested(MaterialOut))
    delivery = fields.Dict(allow_none=True)
    correction = computed(fields.Dict, _detail("correction"), allow_none=True)
    refusal = computed(fields.Dict, _detail("refusal"), allow_none=True)
    suspensions = computed(fields.List, _detail("suspensions", list), fields.Dict())
    extension = computed(fields.Dict, _detail("extension"), allow_none=True)
    withdrawal = computed(fields.Dict, _detail("withdrawal"), allow_none=True)
    delivery_record = computed(fields.Dict, _detail("delivery_record"), allow_none=True)
    decision = computed(
        fields.Dict,
        _detail("decision"),
        allow_none=True,
        metadata={"description": "outcome, reason, result"},
    )
    steps = computed(
        fields.List, lambda a: sorted(a.steps, key=lambda s: s.id), fields.Nested(StepOut)
    )
    allowed_actions = computed(
        fields.List,
        lambda a: applications.allowed_actions(a, viewer()["role"]),
        fields.String(),
    )
    version = fields.Integer()


class ApplicationCreated(ApplicationOut):
    query_code = fields.String(metadata={"description": "查询密码: shown only in this response"})


# Built once: instantiating a schema deep-copies its fields, too costly per request.
APPLICATION_OUT = ApplicationOut()


class ApplicationPage(Page):
    items = fields.List(fields.Nested(ApplicationOut))


class EventOut(Schema):
    seq = fields.Integer()
    type = fields.String()
    at = LocalDateTime()
    actor_name = fields.String()
    actor_role = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    details = fields.Dict()
    hash = fields.String()
    prev_hash = fields.String()


class NoticeOut(Schema):
    title = fields.String()
    event = fields.String()
    target = fields.String()
    state = fields.String(metadata={"enum": ["pending", "sending", "sent", "dead"]})
    attempts = fields.Integer()
    created_at = LocalDateTime()
    sent_at = LocalDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
