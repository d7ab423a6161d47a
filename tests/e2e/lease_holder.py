"""A department poller that fetches tasks, prints them as one JSON line, then hangs (to be killed).

Usage: python lease_holder.py BASE_URL WORKER_ID TOPIC COUNT LOCK_SECONDS (token in LEASE_TOKEN).
"""

import json
import os
import sys
import time

import requests

TIMEOUT = (5, 30)
FETCH_ROUNDS = 20
HANG_SECONDS = 120


def main(base_url, worker_id, topic, count, lock_seconds):
    """Fetch ``count`` tasks of ``topic`` with a short lease, report them, and hold them."""
    headers = {"Authorization": f"Bearer {os.environ['LEASE_TOKEN']}"}
    held = []
    with requests.Session() as session:
        for _round in range(FETCH_ROUNDS):
            response = session.post(
                f"{base_url}/api/v1/tasks/fetch-and-lock",
                json={
                    "worker_id": worker_id,
                    "max_tasks": count - len(held),
                    "lock_seconds": lock_seconds,
                    "topics": [topic],
                    "wait_seconds": 1,
                },
                headers=headers,
                timeout=TIMEOUT,
            )
            response.raise_for_status()
            held += response.json()
            if len(held) >= count:
                break
    print(json.dumps(held, ensure_ascii=False), flush=True)
    time.sleep(HANG_SECONDS)  # holding the leases, never reporting: SIGKILL ends this


if __name__ == "__main__":
    url, worker, topic, count, lock = sys.argv[1:6]
    main(url, worker, topic, int(count), float(lock))
