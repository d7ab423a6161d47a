"""An intake attempt killed halfway: it claims its Idempotency-Key, then SIGKILLs its own process.

Usage: python -m tests.integration.killed_intake KEY, with KILLED_DATABASE_URL and KILLED_TOKEN
set. The kill comes where a gunicorn worker dies in practice: after the key is claimed, while
shared data is being fetched, before anything is written.
"""

import os
import signal
import sys

from tests.factories import bearer, intake_body
from windowsvc import create_app
from windowsvc.services.cases import intake


def main(key):
    """Submit one application with ``key`` and die in the middle of it."""
    app = create_app(
        {
            "DATABASE_URL": os.environ["KILLED_DATABASE_URL"],
            "SECRET_KEY": "test-secret",
            "RATELIMIT_STORAGE_URI": "memory://",
            "TESTING": True,
        }
    )
    intake._prepare = lambda body: os.kill(os.getpid(), signal.SIGKILL)
    headers = {**bearer(os.environ["KILLED_TOKEN"]), "Idempotency-Key": key}
    app.test_client().post("/api/v1/applications", json=intake_body(), headers=headers)
    sys.exit("still alive: the attempt was never killed")


if __name__ == "__main__":
    main(sys.argv[1])
