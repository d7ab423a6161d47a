"""flask-smorest's Blueprint, with argument schemas instantiated once instead of per request."""

import flask_smorest

from .body import BodyParser


class Blueprint(flask_smorest.Blueprint):
    """webargs builds a new schema object on every request when given a schema class; bodies are
    read through the one JSON boundary (api/body.py)."""

    ARGUMENTS_PARSER = BodyParser()

    def arguments(self, schema, *args, **kwargs):
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)
