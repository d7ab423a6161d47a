"""The ``windowsvc`` command line (also ``flask --app windowsvc ...``)."""

import contextlib
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from . import catalog as catalog_files
from .staff_cli import staff_group


@click.command("init")
@with_appcontext
def init_command():
    """Migrate the database to head and load the demo catalog when the catalog is empty."""
    from flask_migrate import upgrade

    from .services.admin import catalog

    upgrade(directory=current_app.extensions["migrate"].directory)
    if catalog.is_empty():
        report = catalog.load(catalog_files.DEMO_DIR)
        click.echo(f"loaded demo catalog: {len(report.added)} items")
    click.echo("database ready")


@click.group("catalog")
def catalog_group():
    """Service-item catalog."""


@catalog_group.command("load")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def catalog_load(path):
    """Load item files from PATH (a directory with departments.json and items/)."""
    from .services.admin import catalog

    try:
        report = catalog.load(path)
    except catalog_files.CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"added: {', '.join(report.added) or '-'}")
    click.echo(f"unchanged: {', '.join(report.unchanged) or '-'}")


@click.group("credentials")
def credentials_group():
    """Bearer-token credentials of staff and department systems."""


@credentials_group.command("create")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["window", "backoffice", "supervisor", "oversight", "admin", "monitor"]),
)
@click.option("--department", default=None, help="department code (backoffice, supervisor)")
@click.option("--name", required=True)
@with_appcontext
def credentials_create(role, department, name):
    """Create a credential; the token is printed once, as the last line."""
    from .platform.errors import ServiceError
    from .services.admin import credentials

    try:
        principal, token = credentials.create(role, name, department)
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"created principal {principal.id} ({role}{'/' + department if department else ''})")
    click.echo(token)


@credentials_group.command("revoke")
@click.argument("principal_id", type=int)
@with_appcontext
def credentials_revoke(principal_id):
    """Revoke a credential by principal id."""
    from .platform.errors import ServiceError
    from .services.admin import credentials

    try:
        credentials.revoke(principal_id)
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"revoked principal {principal_id}")


@credentials_group.command("list")
@with_appcontext
def credentials_list():
    """List principals (never their tokens)."""
    from .services.admin import credentials

    for p in credentials.listing():
        state = "revoked" if p.revoked_at else "active"
        click.echo(f"{p.id}\t{p.role}\t{p.department or '-'}\t{p.name}\t{state}")


@click.command("openapi")
@click.option("--out", default="schemas", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def openapi_command(out):
    """Write the published contract (OpenAPI, catalog schema, workflow diagrams) to OUT."""
    from .artifacts import generate

    for relative, content in generate(current_app).items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        click.echo(f"wrote {target}")


def register(app):
    """Attach the commands to ``app.cli``."""
    for command in (
        init_command,
        catalog_group,
        credentials_group,
        openapi_command,
        simulate_command,
        dispatch_command,
        audit_group,
        sweep_command,
        calendar_group,
        staff_group,
    ):
        app.cli.add_command(command)


def _at_most(value: str, length: int, name: str) -> str:
    if len(value) > length:
        raise click.BadParameter(f"{name} takes at most {length} characters")
    return value


def main():
    """Entry point of the ``windowsvc`` console script."""
    import os

    from . import create_app

    # a command is not a server worker: its figures must not join a server's /metrics
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

    cli = FlaskGroup(create_app=lambda: create_app(), add_default_commands=False)
    cli.main(args=sys.argv[1:], prog_name="windowsvc")


@click.command("simulate")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="engine base URL")
@click.option(
    "--window-interval",
    default=15.0,
    show_default=True,
    help="seconds between demo applications (0: no simulated window)",
)
@click.option(
    "--camunda",
    default="xfjy",
    show_default=True,
    help="comma-separated departments that use the Camunda client",
)
@click.option("--min-delay", default=0.5, show_default=True)
@click.option("--max-delay", default=3.0, show_default=True)
@click.option("--correction-share", default=0.05, show_default=True)
@click.option("--deny-share", default=0.05, show_default=True)
@click.option("--failure-share", default=0.05, show_default=True)
@click.option(
    "--evidence-port",
    default=0,
    show_default=True,
    help="also serve the simulated shared-data source on this port (0: off)",
)
@click.option("--seconds", default=0.0, help="stop after this many seconds (0: run until Ctrl-C)")
@with_appcontext
def simulate_command(
    url,
    window_interval,
    camunda,
    min_delay,
    max_delay,
    correction_share,
    deny_share,
    failure_share,
    evidence_port,
    seconds,
):
    """Run simulated department systems (and a window) as HTTP clients of a running engine."""
    import threading

    from .simulators import setup

    stop = threading.Event()
    shares = {
        "correction_share": correction_share,
        "deny_share": deny_share,
        "failure_share": failure_share,
        "min_delay": min_delay,
        "max_delay": max_delay,
    }
    departments = set(filter(None, camunda.split(",")))
    threads = setup.start(url, window_interval, departments, shares, evidence_port, stop)
    click.echo(f"simulating {len(threads)} parties against {url}; Ctrl-C to stop")
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait(seconds or None)
    stop.set()


@click.command("dispatch")
@click.option("--once", is_flag=True, help="one round, then exit")
@click.option("--interval", default=1.0, show_default=True, help="seconds between rounds")
@with_appcontext
def dispatch_command(once, interval):
    """Deliver the outbox (notices) and serve push departments (WINDOWSVC_PUSH_ENDPOINTS)."""
    import json
    import time

    from .adapters.push import HttpDepartmentPush, HttpNotifier, LogNotifier
    from .platform import outage
    from .services.queue import dispatch

    config = current_app.config
    endpoints = config["PUSH_ENDPOINTS"]
    endpoints = json.loads(endpoints) if isinstance(endpoints, str) else (endpoints or {})
    pushers = {dep: HttpDepartmentPush(url) for dep, url in endpoints.items()}
    notifier_url = config["NOTIFIER_URL"]
    notifier = HttpNotifier(notifier_url) if notifier_url else LogNotifier(config["NOTICE_LOG"])

    def one_round():
        return dispatch.deliver_outbox({"notice": notifier}), dispatch.serve_push_departments(
            pushers
        )

    if once:
        sent, handled = one_round()
        click.echo(f"sent {sent} messages, handled {handled} push tasks")
        return
    while True:
        # a database restart or failover is waited out, not a reason to exit
        done = outage.survive("dispatch", one_round, pause=max(interval, 1.0))
        if done is not None and not any(done):
            time.sleep(interval)


@click.group("audit")
def audit_group():
    """The tamper-evident lifecycle record (全过程记录)."""


@audit_group.command("verify")
@with_appcontext
def audit_verify():
    """Check every case's hash chain and the newest checkpoint; exit 1 when anything is wrong."""
    from .services.oversight import audit

    report = audit.verify()
    for p in report["problems"]:
        click.echo(f"{p['application'] or '-'}\t{p['seq'] or '-'}\t{p['kind']}\t{p['detail']}")
    saved = report["checkpoint"]
    against = f"checkpoint #{saved['id']}" if saved else "no checkpoint yet"
    verdict = "ok" if report["ok"] else f"{len(report['problems'])} problem(s)"
    click.echo(f"checked {report['checked']} events ({against}): {verdict}")
    if not report["ok"]:
        sys.exit(1)


@audit_group.command("checkpoint")
@with_appcontext
def audit_checkpoint():
    """Record a digest over every case's chain head (also taken by `windowsvc sweep`)."""
    from .services.oversight import audit

    try:
        saved = audit.checkpoint()
    except audit.CheckpointRefused as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(
        f"checkpoint #{saved.id}: {saved.case_count} cases, {saved.event_count} events, "
        f"digest {saved.digest}"
    )


@click.command("sweep")
@click.option("--every", default=0.0, help="repeat every N seconds (0: once)")
@with_appcontext
def sweep_command(every):
    """Run the timers: deemed acceptance, 容缺 deadlines, expired leases, warnings, default
    ratings, checkpoint."""
    import time

    from .platform import metrics, outage
    from .services.admin import sweep

    while True:
        if every:  # a database restart or failover is waited out, not a reason to exit
            report = outage.survive("sweep", sweep.run, pause=every)
            if report is None:
                continue
        else:
            report = sweep.run()
        click.echo(
            f"deemed accepted {len(report.deemed_accepted)}, terminated {len(report.terminated)}, "
            f"leases released {report.leases_released}, recounted {len(report.recounted)}, "
            f"warnings changed "
            f"{report.warnings_changed}, default ratings {len(report.default_ratings)}, "
            f"checkpoint {'yes' if report.checkpoint else 'no'}"
            + (
                f", skipped (another sweep ran them) {','.join(report.skipped)}"
                if report.skipped
                else ""
            )
        )
        if report.checkpoint_refused:
            click.echo(f"AUDIT: {report.checkpoint_refused}", err=True)
        for failure in report.failures:
            click.echo(f"FAILED {failure}", err=True)
        if not report.checkpoint_refused and not report.failures:
            metrics.record_sweep_success(current_app)  # read by /metrics
        if not every:
            sys.exit(1 if report.checkpoint_refused or report.failures else 0)
        time.sleep(every)


@click.group("calendar")
def calendar_group():
    """The working-day calendar (statutory holidays and 调休 make-up days)."""


@calendar_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--by",
    default="管理员 (windowsvc calendar load)",
    callback=lambda _ctx, _param, value: _at_most(value, 100, "--by"),
    help="who loads it, for the record",
)
@with_appcontext
def calendar_load(path, by):
    """Load an official holiday notice and count every provisional deadline again.

    PATH is JSON: {"years": [...], "holidays": [...], "workdays": [...], "note": "..."}.
    """
    from .platform.errors import Invalid
    from .services.calendar import notices as calendar_admin
    from .services.calendar import working as calendar
    from .services.cases.records import Actor

    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"not a UTF-8 JSON file: {exc}") from exc
    try:
        result = calendar_admin.load(calendar.parse_notice(text), Actor(None, by, "admin"))
    except Invalid as exc:
        raise click.ClickException(f"{exc.detail} {exc.extra.get('errors') or ''}") from exc
    recounted = result["recounted"]
    click.echo(
        f"calendar: {result['days']} days, complete years: "
        f"{', '.join(map(str, result['years'])) or '-'}"
        f"{'' if result['changed'] else ' (already loaded, nothing changed)'}"
    )
    click.echo(
        f"recounted: {recounted['cases']} cases changed ({recounted['deadlines']} case deadlines, "
        f"{recounted['steps']} steps, {recounted['rectifications']} work orders); "
        f"{recounted['still_provisional']} cases still provisional"
    )


@calendar_group.command("coverage")
@with_appcontext
def calendar_coverage():
    """Which years are official, and how much open work is still provisional."""
    from .services.calendar import notices as calendar_admin

    report = calendar_admin.coverage()
    for year in report["years"]:
        click.echo(
            f"{year['year']}\t{year['source']}\t{'official' if year['official'] else 'PROVISIONAL'}"
        )
    click.echo(
        f"open cases provisional: {report['open_cases_provisional']}, steps: "
        f"{report['open_steps_provisional']}, work orders: {report['rectifications_provisional']}"
    )
    if report["next_year_missing_warning"]:
        click.echo(f"WARNING: no official notice for {report['as_of'].year + 1} yet", err=True)
