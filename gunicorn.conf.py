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


# Metrics (/metrics, windowsvc/platform/metrics.py): prometheus-client's multiprocess mode. Each
# worker keeps its figures in files under PROMETHEUS_MULTIPROC_DIR and a scrape adds them up. The
# directory must exist before a worker imports prometheus-client, so the master makes it when it
# starts (on_starting, before any worker): a fresh one per server start unless the operator names
# one. Not when this file is merely read (tests read it): that would leak the setting into the
# reading process, and its children would share a directory the first server to stop removes.
_METRICS_PREFIX = "windowsvc-metrics-"
_made_here = []  # the directory this server made, removed when it stops


def on_starting(server):
    """Refuse to start when the throttles would count per worker; make the metrics directory."""
    from windowsvc.config import settings
    from windowsvc.platform.limiter_storage import check_server

    check_server(settings(), server.cfg.workers)
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=_METRICS_PREFIX)
        _made_here.append(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def when_ready(server):
    """Before the first worker: drop figures a previous server left in an operator's directory."""
    from pathlib import Path

    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink(missing_ok=True)


def child_exit(server, worker):
    """A worker is gone: its live gauges (requests in progress, pool) stop counting."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """The server stops: remove the directory this file made (an operator's is left alone)."""
    import shutil
    from pathlib import Path

    for directory in _made_here:
        shutil.rmtree(Path(directory), ignore_errors=True)
