"""The public service-item catalog (办事指南)."""

from flask.views import MethodView
from marshmallow import Schema, fields

from ..platform.policy import PUBLIC, allow
from ..services.admin import catalog
from .smorest import Blueprint

blp = Blueprint("items", __name__, url_prefix="/api/v1", description="服务事项目录")


class MaterialSpec(Schema):
    code = fields.String()
    name = fields.String()
    required = fields.Boolean()
    evidence = fields.String(allow_none=True, metadata={"description": "一证通办 source or null"})
    deferrable = fields.Boolean(metadata={"description": "容缺: may be handed in later"})


class StepSpec(Schema):
    code = fields.String()
    name = fields.String()
    department = fields.String()
    topic = fields.String()
    days = fields.Integer()
    item = fields.String(metadata={"description": "member item of a bundle"})


class ItemOut(Schema):
    code = fields.String()
    version = fields.Integer()
    name = fields.String()
    department = fields.String()
    department_name = fields.String()
    mode = fields.String(metadata={"enum": ["single", "parallel", "bundle"]})
    legal_days = fields.Integer(metadata={"description": "法定时限 (working days)"})
    promised_days = fields.Integer(metadata={"description": "承诺时限 (working days)"})
    instant = fields.Boolean(metadata={"description": "即办件"})
    description = fields.String()
    materials = fields.List(fields.Nested(MaterialSpec))
    stages = fields.List(fields.List(fields.Nested(StepSpec)))
    delivery_methods = fields.List(fields.String())
    members = fields.List(fields.Dict())


def _item(row, names):
    definition = row.definition
    return {**definition, "department_name": names.get(definition["department"], "")}


@blp.route("/items")
class Items(MethodView):
    @allow(PUBLIC)
    @blp.response(200, ItemOut(many=True))
    def get(self):
        """Every service item in its current version."""
        names = catalog.department_names()
        return [_item(row, names) for row in catalog.current_items()]


@blp.route("/items/<code>")
class Item(MethodView):
    @allow(PUBLIC)
    @blp.response(200, ItemOut)
    def get(self, code):
        """One service item in its current version."""
        return _item(catalog.get(code), catalog.department_names())
