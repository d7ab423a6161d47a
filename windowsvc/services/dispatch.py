"""The dispatcher: delivers the outbox and serves push departments from the same task queue."""

import logging
import os

from ..adapters.push import PushFailed
from . import outbox, tasks
from .errors import ServiceError
from .records import Actor

log = logging.getLogger(__name__)
DEFAULT_RETRIES = 3


def deliver_outbox(senders: dict, limit: int = 50) -> int:
    """Send due outbox messages through ``senders`` (kind → object with ``send``); how many sent."""
    sent = 0
    for message in outbox.claim(limit):
        sender = senders.get(message["kind"])
        try:
            if sender is None:
                raise PushFailed(f"no sender for kind {message['kind']}")
            sender.send(message)
        except Exception as exc:  # any failure is retried later with backoff
            outbox.failed(message["id"], f"{type(exc).__name__}: {exc}")
            continue
        outbox.delivered(message["id"])
        sent += 1
    return sent


def serve_push_departments(adapters: dict, lock_seconds: float = 120, batch: int = 10) -> int:
    """Claim push departments' tasks and call their systems; how many tasks were handled."""
    handled = 0
    for department, adapter in adapters.items():
        actor = Actor(None, f"dispatcher-{department}", "backoffice", department)
        worker = f"dispatch-{department}-{os.getpid()}"
        for task in tasks.fetch_and_lock(actor, tasks.Lease(worker, batch, lock_seconds)):
            handled += 1
            try:
                answer = adapter.handle(task)
                tasks.complete(
                    task["id"],
                    actor,
                    worker,
                    answer["outcome"],
                    comment=answer.get("comment"),
                    result=answer.get("result") or {},
                    missing=answer.get("missing") or [],
                )
            except (PushFailed, ServiceError) as exc:
                retries = DEFAULT_RETRIES if task["retries"] is None else task["retries"]
                retries = max(retries - 1, 0)
                log.warning(
                    "push %s task %s failed (%s); retries left %s",
                    department,
                    task["id"],
                    exc,
                    retries,
                )
                try:
                    tasks.failure(
                        task["id"],
                        actor,
                        worker,
                        str(getattr(exc, "detail", exc)),
                        retries=retries,
                        retry_seconds=2 ** (task["attempt"]),
                    )
                except ServiceError:
                    log.exception("could not report failure of task %s", task["id"])
    return handled
