"""Domain errors raised by services; the API layer turns each into one problem+json answer."""


class ServiceError(Exception):
    """Base: ``status``, a short ``title`` and a ``detail`` a clerk or citizen can act on."""

    status = 400
    title = "Bad request"
    type = "about:blank"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(ServiceError):
    status, title, type = 404, "Not found", "/problems/not-found"


class Forbidden(ServiceError):
    status, title, type = 403, "Forbidden", "/problems/forbidden"


class Invalid(ServiceError):
    """422 with field errors: ``errors={field: [messages]}``."""

    status, title, type = 422, "Validation failed", "/problems/validation"

    def __init__(self, detail: str, errors: dict | None = None, **extra):
        super().__init__(detail, errors=errors or {}, **extra)


class Conflict(ServiceError):
    status, title, type = 409, "Conflict", "/problems/conflict"


class PreconditionFailed(ServiceError):
    status, title, type = 412, "Precondition failed", "/problems/stale-version"


class PreconditionRequired(ServiceError):
    status, title, type = 428, "Precondition required", "/problems/if-match-required"


class BadNumber(ServiceError):
    status, title, type = 400, "Invalid acceptance number", "/problems/invalid-number"


class Unavailable(ServiceError):
    status, title, type = 503, "Service unavailable", "/problems/unavailable"
