"""(e) windowsvc's requests against a bare Flask + Flask-SQLAlchemy app, in the same run.

Both run under gunicorn with 2 workers x 4 gthread threads on their own database of the same
backend, with the same SQLite settings (peers/bare.py), and are loaded with ``wrk -t2 -c16``:
- the citizen's status lookup (POST /api/v1/status, number + query code of a real application)
  against one row read by a unique key (GET /rows/<key>);
- a complete window intake of the parallel item (POST /api/v1/applications, a fresh
  Idempotency-Key per request, accepted on the spot: three steps opened) against one committed
  insert of the same body (POST /rows);
- GET /healthz against GET /hello.
The two take turns, a few rounds each after a warm-up, so that a change in the machine's load
falls on both; a side's rate is its requests over its rounds' time. Every answer's status code
is checked (wrk.py); a pair with more than 1% unexpected answers fails.

The status lookup's throttle stays as configured: failed lookups are never made (every code is
right), and the per-number ceiling (STATUS_LOOKUPS_PER_NUMBER, every lookup counted) is respected
by spreading the lookups over enough applications made beforehand. SQLite gates; PostgreSQL,
when PGHOST is set, is reported only.
"""

import json

from limits import parse as parse_limit

from windowsvc.config import Defaults

from . import wrk
from .common import (
    POSTGRES,
    QUICK,
    Result,
    Server,
    create_principal,
    intake_body,
    make_app,
    postgres_database,
    postgres_server_url,
    prepare_database,
    scratch_dir,
)
from .peers import bare

WORKERS, THREADS = 2, 4
WARMUP_SECONDS = 1 if QUICK else 2
# the two sides take turns (windowsvc, bare, windowsvc, ...): a change in the load the other
# processes on the machine put on the cores falls on both
ROUNDS = 2 if QUICK else 3
ROUND_SECONDS = 2 if QUICK else 5
# applications to look up: at 2,000 lookups/s each is looked up < 60 times in a full run
STATUS_NUMBERS = 150 if QUICK else 600
READ_ROWS = 10_000
TARGETS = {"status": 0.5, "intake": 0.3, "healthz": 0.7}


class BareServer(Server):
    """The bare peer under gunicorn with the same workers, threads and worker type (gthread)."""

    def __init__(self, database_url, workdir, workers=WORKERS, threads=THREADS):
        super().__init__(database_url, workdir, workers, threads)
        self.log_path = workdir / "gunicorn-bare.log"
        self.env["BARE_DATABASE_URL"] = database_url
        self.command = [
            self.command[0],
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--access-logfile",
            "-",  # windowsvc logs every request too
            "bench.peers.bare:create_app()",
        ]
        self.ready_path = "/hello"


def prepare_windowsvc(url, workdir, count):
    """Migrate, load the catalog, make a window token and ``count`` accepted applications;
    (window token, [(number, query code)])."""
    from windowsvc.api.applications import IntakeIn
    from windowsvc.api.case_schemas import APPLICATION_OUT
    from windowsvc.api.presenting import VIEWER
    from windowsvc.extensions import db
    from windowsvc.services.cases import intake

    app = make_app(url, workdir)
    prepare_database(app)
    window, token = create_principal(app, "window", "综合窗口-基准")
    schema = IntakeIn()
    codes = []
    for serial in range(count):
        with app.app_context(), VIEWER({"role": "window", "personal_data": True}):
            body = schema.load(intake_body(serial))
            made = intake.submit(window, f"status-{serial}", body, APPLICATION_OUT.dump)
            codes.append((made.receipt["number"], made.query_code))
    with app.app_context():
        db.engine.dispose()
    return token, codes


def loads(window_token, codes, read_keys):
    """(name, windowsvc's load, the bare peer's load) for each pair."""
    as_json = {"Content-Type": "application/json"}
    intake = json.dumps(intake_body(0), ensure_ascii=True)
    return [
        (
            "status",
            wrk.Load(
                "POST",
                200,
                items=[
                    ("/api/v1/status", json.dumps({"number": n, "query_code": c})) for n, c in codes
                ],
                headers=as_json,
            ),
            wrk.Load("GET", 200, items=[(f"/rows/{key}", None) for key in read_keys]),
        ),
        (
            "intake",
            wrk.Load(
                "POST",
                201,
                path="/api/v1/applications",
                body=intake,
                headers={**as_json, "Authorization": f"Bearer {window_token}"},
                fresh_key=True,
            ),
            wrk.Load("POST", 201, path="/rows", body=intake, headers=as_json, fresh_key=True),
        ),
        ("healthz", wrk.Load("GET", 200, path="/healthz"), wrk.Load("GET", 200, path="/hello")),
    ]


def measure(backend, ours_url, bare_url, workdir):
    """{name: (windowsvc's Outcome, the peer's Outcome, [(windowsvc's, the peer's) Outcome of
    each timed round])} and the status lookups per number."""
    token, codes = prepare_windowsvc(ours_url, workdir, STATUS_NUMBERS)
    read_keys = bare.prepare(bare_url, READ_ROWS)
    outcomes = {}
    status_lookups = 0
    with Server(ours_url, workdir, WORKERS, THREADS) as ours, BareServer(bare_url, workdir) as peer:
        for name, our_load, peer_load in loads(token, codes, read_keys):
            sides = ((ours, our_load, "windowsvc"), (peer, peer_load, "bare"))
            rounds = {"windowsvc": [], "bare": []}
            for server, load, side in sides:
                label = f"{backend}-{name}-{side}-warmup"
                rounds[side].append(wrk.run(server.url, load, WARMUP_SECONDS, workdir, label))
            for n in range(ROUNDS):
                for server, load, side in sides:
                    label = f"{backend}-{name}-{side}-{n}"
                    rounds[side].append(wrk.run(server.url, load, ROUND_SECONDS, workdir, label))
            if name == "status":
                status_lookups = sum(r.requests for r in rounds["windowsvc"])
            outcomes[name] = tuple(wrk.Outcome.combined(rounds[s][1:]) for s in rounds)
            # each timed round paired with the peer's round run just after it: their own ratios
            # show how much the machine's other load moved the figure
            outcomes[name] += (list(zip(rounds["windowsvc"][1:], rounds["bare"][1:], strict=True)),)
        errors = ours.error_lines() + peer.error_lines()
    return outcomes, status_lookups / len(codes), errors


# the per-number ceiling of every lookup, as configured (a shared store answers 429 above it)
LOOKUP_CEILING = parse_limit(Defaults.STATUS_LOOKUPS_PER_NUMBER).amount

TITLES = {
    "status": "status lookup / bare indexed read",
    "intake": "intake / bare durable insert",
    "healthz": "healthz / bare hello",
}


def _ratio(ours, peer) -> float:
    """windowsvc's rate over the peer's; 0 when the peer answered nothing (an invalid pair)."""
    return ours.rate / peer.rate if peer.rate else 0.0


def rows(backend, outcomes, per_number, server_errors, group="") -> list[Result]:
    results = []
    for name, (ours, peer, rounds) in outcomes.items():
        ratio = _ratio(ours, peer)
        valid = ours.valid and peer.valid
        target = TARGETS[name]
        note = (
            f"windowsvc {ours.describe()}; bare {peer.describe()}; the rounds' own ratios "
            + ", ".join(
                f"{_ratio(a, b):.2f}" + ("" if a.valid and b.valid else " (invalid)")
                for a, b in rounds
            )
        )
        if name == "status":
            note += (
                f"; {per_number:.0f} lookups per application (ceiling STATUS_LOOKUPS_PER_NUMBER"
                f" {LOOKUP_CEILING} unchanged), all from one client address with correct codes;"
                " no limit raised, the limiter counts in memory:// per worker (Redis round trips"
                " not measured)"
            )
            if per_number > LOOKUP_CEILING:
                # each worker counts its own share in memory://: lookups a shared store would
                # have refused were measured as answered
                valid = False
                note += "; more lookups per application than the ceiling allows: not comparable"
        if not valid:
            note += f"; more than {wrk.MAX_ERROR_SHARE:.0%} unexpected answers: not a measurement"
        if server_errors:
            note += f"; server errors: {server_errors[:2]}"
        results.append(
            Result(
                f"(e) {TITLES[name]}, {backend}, gunicorn {WORKERS}x{THREADS}, wrk -t2 -c16 "
                f"{ROUNDS}x{ROUND_SECONDS}s",
                f"{ours.rate:,.0f} vs {peer.rate:,.0f} req/s",
                f">= {target}" if not group else f"(>= {target})",
                f"{ratio:.2f}",
                (valid and ratio >= target) if not group else None,
                note,
                group,
            )
        )
        if group and not valid:
            results[-1].measured += " (invalid)"
    return results


def run() -> list[Result]:
    wrk.executable()
    with scratch_dir("ratios") as workdir:
        outcomes, per_number, errors = measure(
            "SQLite",
            f"sqlite:///{workdir / 'windowsvc.db'}",
            f"sqlite:///{workdir / 'bare.db'}",
            workdir,
        )
    results = rows("SQLite", outcomes, per_number, errors)
    server = postgres_server_url()
    if server is None:
        results.append(
            Result("(e) ratios, PostgreSQL", "skipped", "-", "-", None, "PGHOST not set", POSTGRES)
        )
        return results
    with (
        scratch_dir("ratios-pg") as workdir,
        postgres_database(server) as ours_url,
        postgres_database(server) as bare_url,
    ):
        outcomes, per_number, errors = measure("PostgreSQL", ours_url, bare_url, workdir)
    return results + rows("PostgreSQL", outcomes, per_number, errors, POSTGRES)
