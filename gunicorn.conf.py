"""Gunicorn settings; override any value on the command line or with GUNICORN_CMD_ARGS."""

import os

bind = os.environ.get("WINDOWSVC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WINDOWSVC_WORKERS", "2"))
# Long-polling department systems each hold a thread while they wait.
threads = int(os.environ.get("WINDOWSVC_THREADS", "16"))
# gthread, with gunicorn's own error answers (414, 431, bad request line) in problem+json
worker_class = "windowsvc.gunicorn_worker.ProblemThreadWorker"
timeout = 60
graceful_timeout = 20
accesslog = "-"
errorlog = "-"

# Logs: one JSON object per line, like the app's own (windowsvc/logs.py). The access line's
# message is the request in brief; its fields come from gunicorn's atoms, plus the request id,
# the case and the principal the app left in the environ. logconfig_dict replaces gunicorn's
# handlers on gunicorn.error and gunicorn.access; the app finds the root handler already
# formatting JSON and adds none.
access_log_format = "%(m)s %(U)s %(s)s"
_JSON_STREAM = {"class": "logging.StreamHandler", "formatter": "json"}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "windowsvc.logs.JsonFormatter"}},
    "handlers": {
        "access": {**_JSON_STREAM, "stream": "ext://sys.stdout"},
        "errors": {**_JSON_STREAM, "stream": "ext://sys.stderr"},
    },
    "root": {"level": os.environ.get("WINDOWSVC_LOG_LEVEL", "INFO"), "handlers": ["errors"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["errors"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        "transitions": {"level": "WARNING"},
    },
}


def on_starting(server):
    """Refuse to start when the throttles would count per worker (windowsvc.platform)."""
    from windowsvc.config import settings
    from windowsvc.platform.limiter_storage import check_server

    check_server(settings(), server.cfg.workers)
