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
