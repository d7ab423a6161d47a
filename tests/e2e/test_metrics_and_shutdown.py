"""A real gunicorn: /metrics adds up every worker's figures, and SIGTERM lets long polls answer.

The module starts its own server (``_run_server`` of the e2e conftest): it names the metrics
directory, and its last test stops the server.
"""

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import STOP_SECONDS, _run_server

BATCH = 40
MAX_BATCHES = 25
POLL_SECONDS = 30  # the longest wait the API allows: longer than gunicorn's graceful_timeout
LOOKS = 400  # scrapes while waiting for the polls to be in flight (each a few ms)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn (2 workers) on SQLite with an operator-given metrics directory; a monitor token.
    The last test of the module stops it."""
    tmp_path = tmp_path_factory.mktemp("metrics-e2e")
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale")  # a previous server's: wiped at start
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
        run = _run_server("sqlite", f"sqlite:///{tmp_path / 'windowsvc.db'}", tmp_path)
        live = next(run)
    live.tokens["monitor"] = (
        live.cli("credentials", "create", "--role", "monitor", "--name", "prometheus")
        .strip()
        .splitlines()[-1]
    )
    live.metrics_dir = metrics_dir
    yield live
    run.close()  # stops gunicorn (the generator's finally)


def scrape(server) -> dict:
    """{sample name: [(labels, value)]} of one GET /metrics."""
    response = requests.get(
        f"{server.url}/metrics",
        headers={"Authorization": f"Bearer {server.tokens['monitor']}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def readyz_count(samples) -> float:
    return sum(
        value
        for labels, value in samples.get("windowsvc_http_request_duration_seconds_count", [])
        if labels["endpoint"] == "probes.readyz" and labels["status"] == "2xx"
    )


def _get_readyz(url: str) -> int:
    with requests.Session() as session:  # a connection of its own: either worker may take it
        return session.get(f"{url}/readyz", timeout=10).status_code


def test_a_scrape_adds_up_both_workers(server):
    assert not (server.metrics_dir / "counter_1.db").exists()
    before = readyz_count(scrape(server))
    sent = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(MAX_BATCHES):
            statuses = list(pool.map(_get_readyz, [server.url] * BATCH))
            assert statuses == [200] * BATCH
            sent += BATCH
            # a worker has a histogram file once it has answered a request
            if len(list(server.metrics_dir.glob("histogram_*.db"))) >= 2:
                break
    served_by = {p.stem.rsplit("_", 1)[1] for p in server.metrics_dir.glob("histogram_*.db")}
    assert len(served_by) == 2, f"one worker answered all {sent} requests\n{server.log_tail()}"
    samples = scrape(server)
    assert readyz_count(samples) - before == sent
    pools = samples["windowsvc_db_pool_checked_out"]
    assert {labels["pid"] for labels, _v in pools} == served_by  # one pool per live worker


def _poll(server, results, name, request):
    try:
        results[name] = request()
    except requests.RequestException as exc:
        results[name] = exc


def test_sigterm_lets_long_polls_answer_and_the_server_exits(server):
    """Last in the module: it stops the server."""
    native = {
        "url": f"{server.url}/api/v1/tasks/fetch-and-lock",
        "json": {"worker_id": "zjj-1", "wait_seconds": POLL_SECONDS},
        "headers": {"Authorization": f"Bearer {server.tokens['zjj']}"},
    }
    camunda = {
        "url": f"{server.url}/engine-rest/external-task/fetchAndLock",
        "json": {
            "workerId": "scjg-1",
            "maxTasks": 1,
            "asyncResponseTimeout": POLL_SECONDS * 1000,
            "topics": [{"topicName": "scjg_review", "lockDuration": 60000}],
        },
        "headers": {"Authorization": f"Bearer {server.tokens['scjg']}"},
    }
    results = {}
    threads = [
        threading.Thread(
            target=_poll,
            args=(server, results, name, lambda a=args: requests.post(**a, timeout=120)),
        )
        for name, args in (("native", native), ("camunda", camunda))
    ]
    for thread in threads:
        thread.start()
    for _ in range(LOOKS):  # until both polls are being answered (waiting) in the server
        polls = scrape(server)["windowsvc_http_requests_in_progress"]
        waiting = sum(v for labels, v in polls if labels["endpoint"] != "probes.metrics_page")
        if waiting == 2:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the long polls never arrived\n{server.log_tail()}")
    assert results == {}  # both still waiting when the server is told to stop
    server.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=POLL_SECONDS * 2)
    for name, result in results.items():
        assert isinstance(result, requests.Response), f"{name}: {result!r}\n{server.log_tail()}"
        assert result.status_code == 200, f"{name}: {result.status_code} {result.text}"
        assert result.json() == [], name
    assert set(results) == {"native", "camunda"}
    # gunicorn's graceful timeout (20 s) is shorter than the polls (30 s): a poll still waiting
    # would have kept the server up and been cut off when its worker was killed
    assert server.process.wait(timeout=STOP_SECONDS) == 0, server.log_tail()
