"""flask-smorest's Blueprint, with argument schemas instantiated once instead of per request."""

import flask_smorest

from .body import BodyParser
from .schemas import PROBLEM_JSON, Problem


class Blueprint(flask_smorest.Blueprint):
    """webargs builds a new schema object on every request when given a schema class; bodies are
    read through the one JSON boundary (api/body.py)."""

    ARGUMENTS_PARSER = BodyParser()

    def arguments(self, schema, *args, **kwargs):
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)

    def alt_response(self, status_code, response=None, **kwargs):
        """An error documented without a body is a problem+json ``Problem``, as it is served."""
        if int(status_code) >= 400 and response is None and kwargs.get("schema") is None:
            kwargs.update(schema=Problem, content_type=PROBLEM_JSON)
        return super().alt_response(status_code, response, **kwargs)
