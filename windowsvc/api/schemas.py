"""Marshmallow schemas shared by several blueprints (requests are strict: unknown fields fail)."""

import unicodedata

from marshmallow import INCLUDE, Schema, fields, pre_load, validate
from werkzeug.routing import BaseConverter

from ..clock import local
from ..rules import acceptance_number
from ..rules.ratings import ALL_TAGS, LEVELS, VERDICTS, tag_labels
from ..services.ratings import rectification_views
from ..workflows.rectification import RECTIFICATION
from .presenting import computed

PROBLEM_JSON = "application/problem+json"
NUMBER_DOC = {
    "pattern": acceptance_number.PATTERN,
    "description": "统一受理号: 22 characters, the last an ISO 7064 MOD 11-2 check character "
    "(spaces, dashes and a lower-case x are accepted and normalised)",
}


class AcceptanceNumberConverter(BaseConverter):
    """``<number:...>`` in a route: any segment (a malformed number is a 400, not a 404)."""


def number_parameter(_converter) -> dict:
    """The OpenAPI schema of an acceptance number in a path."""
    return {"type": "string", **NUMBER_DOC}


class AttributeSchema(Schema):
    """Dumps an object's attributes (a dataclass, a named tuple, a row): one ``getattr`` per
    field, not marshmallow's item look-up first and attribute second (a tenth of the status
    lookup's calls, measured in bench/profiles/). A dict, or a dotted ``attribute=`` path,
    is still looked up marshmallow's way; another kind of mapping (a Core ``RowMapping``) is
    not: dump objects with attributes, or dicts."""

    def get_attribute(self, obj, attr, default):
        if isinstance(obj, dict) or "." in attr:
            return super().get_attribute(obj, attr, default)
        return getattr(obj, attr, default)


class LocalDateTime(fields.DateTime):
    """A timestamp shown in Asia/Shanghai with its offset (+08:00), as the contract promises."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(local(value) if value else value, attr, obj, **kwargs)


# Row ids are INTEGER columns, 32-bit on PostgreSQL: a path id outside 1..2**31-1 matches no
# route (404) and a query id outside it is a 422, never reaching the database (which fails on
# an integer wider than its column).
MAX_ID = 2**31 - 1
ID_PATH = f"int(min=1, max={MAX_ID})"
ID_RANGE = validate.Range(1, MAX_ID)

CHANNELS = tuple(acceptance_number.CHANNEL_DIGITS)
ID_TYPES = ("resident_id", "passport", "uscc", "hk_macao_permit", "taiwan_permit", "other")


class MaterialRef(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 64))


class Deferral(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 64))
    commit_date = fields.Date(required=True, metadata={"description": "承诺补交日期"})


class Applicant(Schema):
    type = fields.String(required=True, validate=validate.OneOf(("person", "organization")))
    name = fields.String(required=True, validate=validate.Length(1, 100))
    id_type = fields.String(required=True, validate=validate.OneOf(ID_TYPES))
    id_number = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[0-9A-Z()\-]{1,40}$", error="证件号码只能包含数字、字母、括号和连字符 (1–40)"
        ),
        metadata={"description": "resident ID (18, last may be X), USCC (18), passport, ..."},
    )
    phone = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9\- ]{5,20}$"))

    @pre_load
    def normalise(self, data, **_kwargs):
        data = strip_strings(data)
        if isinstance(data, dict) and isinstance(data.get("id_number"), str):
            data["id_number"] = unicodedata.normalize("NFKC", data["id_number"]).upper()
        return data


class Delivery(Schema):
    method = fields.String(
        required=True, validate=validate.OneOf(("window", "express", "electronic"))
    )
    address = fields.String(validate=validate.Length(max=300))


def provisional_flag(what: str = "the date", getter=None):
    """A due date's flag: a year without the official holiday notice went into it (预计);
    valued ``getter(obj)`` when given, else the attribute of the field's name."""
    metadata = {
        "description": f"{what} was counted over a year without the State Council's holiday "
        "notice (预计, recounted when it is loaded)"
    }
    if getter is not None:
        return computed(fields.Boolean, getter, metadata=metadata)
    return fields.Boolean(metadata=metadata)


class Problem(Schema):
    """RFC 9457 problem details: every error of the API has this shape."""

    class Meta:
        unknown = INCLUDE  # some problems carry more members (current_version, ...)

    type = fields.String(required=True, metadata={"description": "a URI naming the problem"})
    title = fields.String(required=True)
    status = fields.Integer(required=True, metadata={"description": "the HTTP status"})
    detail = fields.String(required=True, metadata={"description": "what to do about it"})
    instance = fields.String(metadata={"description": "the request path"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "422: messages by field"},
    )
    allowed_actions = fields.List(
        fields.String(), metadata={"description": "409: the actions the state allows"}
    )


class Page(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


# 好差评 as its rater sees it (ratings and the citizen status view)
def _once_closed(name):
    """The measures or the explanation: shown to the rater once the work order is closed."""
    return lambda o: getattr(o, name) if rectification_views.result_shown(o) else None


class PublicRectification(Schema):
    id = fields.Integer()
    state = fields.String()
    state_label = computed(fields.String, lambda o: RECTIFICATION.labels[o.state])
    due_date = fields.Date()
    due_date_provisional = provisional_flag()
    measures = computed(
        fields.String,
        _once_closed("measures"),
        allow_none=True,
        metadata={"description": "once closed"},
    )
    explanation = computed(
        fields.String,
        _once_closed("explanation"),
        allow_none=True,
        metadata={"description": "once closed"},
    )
    closed_at = LocalDateTime(allow_none=True)
    can_rate = computed(
        fields.Boolean,
        rectification_views.rater_may_assess,
        metadata={"description": "the verdict may be given now"},
    )
    verdict = fields.String(allow_none=True, metadata={"enum": list(VERDICTS)})
    verdict_label = computed(fields.String, lambda o: VERDICTS.get(o.verdict), allow_none=True)


class RatingOut(Schema):
    id = fields.Integer()
    number = fields.String(attribute="application.number")
    level = fields.Integer()
    level_label = computed(fields.String, lambda r: LEVELS[r.level])
    tags = fields.List(fields.String(metadata={"enum": list(ALL_TAGS)}))
    tag_labels = computed(fields.List, lambda r: tag_labels(r.tags), fields.String())
    comment = fields.String()
    at = LocalDateTime(attribute="rated_at")
    default = fields.Boolean(
        attribute="is_default", metadata={"description": "默认好评 given by the system"}
    )
    rectification = fields.Nested(PublicRectification, allow_none=True)


def strip_strings(data):
    """Trim surrounding whitespace of every string value of a flat dict."""
    if not isinstance(data, dict):
        return data
    return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
