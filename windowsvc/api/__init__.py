"""HTTP API: flask-smorest blueprints, problem+json errors, deny-by-default access."""

import http

from flask import Blueprint, request, send_from_directory
from flask_smorest import Api as SmorestApi
from flask_smorest.utils import prepare_response

from . import body
from .problems import from_http_exception, problem
from .problems import register as register_problems
from .schemas import PROBLEM_JSON, AcceptanceNumberConverter, Problem, number_parameter

JSON_TYPES = ("application/json",)


class Api(SmorestApi):
    """flask-smorest's Api whose HTTP errors are problem+json like every other error, and whose
    published OpenAPI says so: every error response is ``application/problem+json`` ``Problem``."""

    ERROR_SCHEMA = Problem

    def handle_http_exception(self, error):
        return from_http_exception(error)

    def _register_responses(self):
        """The named responses (one per status, and the default error) as problem+json."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _docs_assets():
    import swagger_ui_bundle

    assets = Blueprint("api-docs-assets", __name__)

    @assets.get("/api/docs/static/<path:filename>")
    def swagger_ui_file(filename):
        """Swagger UI served from the installed package, so /api/docs works offline."""
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=3600)

    return assets


def _require_json_body():
    """415 for a request body that is not JSON (an empty body is left to validation)."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.path.startswith("/api/"):
        return None
    has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
    if not has_body:
        return None
    mimetype = request.mimetype or ""
    if mimetype in JSON_TYPES or mimetype.endswith("+json"):
        return None
    return problem(
        415,
        "Unsupported media type",
        "请求体须为 application/json (send JSON)",
        "/problems/unsupported-media-type",
    )


def register(app):
    """Attach the API, its error handlers and its access enforcement to ``app``."""
    from . import (
        access,
        applications,
        audit,
        camunda,
        items,
        oversight,
        ratings,
        rectifications,
        status,
        tasks,
        utilities,
    )
    from .auth import enforce

    app.url_map.converters["number"] = AcceptanceNumberConverter
    api = Api(app, spec_kwargs={"info": {"description": "windowsvc — 一窗受理 workflow engine"}})
    api.register_converter(AcceptanceNumberConverter, number_parameter)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for module in (
        items,
        applications,
        tasks,
        status,
        utilities,
        audit,
        oversight,
        access,
        ratings,
        rectifications,
    ):
        api.register_blueprint(module.blp)
    app.register_blueprint(utilities.probes)
    app.register_blueprint(camunda.bp)
    app.register_blueprint(_docs_assets())
    app.url_value_preprocessor(body.refuse_unstorable_path)
    app.before_request(_require_json_body)
    app.before_request(enforce)
    register_problems(app)
    app.extensions["windowsvc.api"] = api
    return api
