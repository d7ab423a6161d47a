"""The dispatcher: delivers the outbox and serves push departments from the same task queue."""

import logging
import os

from ...adapters.push import PushFailed
from ...platform import outbox
from ...platform.errors import ServiceError
from ...workflows import ActionNotAllowed, GuardViolation
from ..cases.records import Actor
from . import claims, tasks

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
            outbox.failed(message["id"], message["attempts"], f"{type(exc).__name__}: {exc}")
            continue
        outbox.delivered(message["id"])
        sent += 1
    return sent


def serve_push_departments(adapters: dict, lock_seconds: float = 120) -> int:
    """Claim push departments' tasks one at a time and call their systems; how many handled.

    One at a time so a slow department cannot outlive the lease of tasks still waiting in a
    batch; any failure of one task (network, a malformed or incomplete answer) is reported as a
    failure of that task and never stops the dispatcher.
    """
    handled = 0
    for department, adapter in adapters.items():
        actor = Actor(None, f"dispatcher-{department}", "backoffice", department)
        worker = f"dispatch-{department}-{os.getpid()}"
        while True:
            claimed = claims.fetch_and_lock(actor, claims.Lease(worker, 1, lock_seconds))
            if not claimed:
                break
            handled += 1
            _push(adapter, actor, worker, claimed[0])
    return handled


def _push(adapter, actor, worker, task):
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
        return
    except (PushFailed, ServiceError, GuardViolation, ActionNotAllowed) as exc:
        reason = str(getattr(exc, "detail", None) or getattr(exc, "message", None) or exc)
    except Exception as exc:  # a bug in an adapter must not stop the queue
        log.exception("push to %s failed unexpectedly", actor.department)
        reason = f"{type(exc).__name__}: {exc}"
    retries = DEFAULT_RETRIES if task["retries"] is None else task["retries"]
    retries = max(retries - 1, 0)
    log.warning(
        "push %s task %s failed (%s); retries left %s",
        actor.department,
        task["id"],
        reason,
        retries,
    )
    try:
        tasks.failure(
            task["id"],
            actor,
            worker,
            reason[:4000],
            retries=retries,
            retry_seconds=2 ** min(task["attempt"], 10),
        )
    except ServiceError:
        log.exception("could not report failure of task %s", task["id"])
