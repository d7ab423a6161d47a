"""``windowsvc staff``: people's sign-in accounts for the pages."""

import sys

import click
from flask.cli import with_appcontext

from .services.admin import credentials


@click.group("staff")
def staff_group():
    """Staff accounts (username and password) for the pages."""


@staff_group.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(credentials.PERSON_ROLES))
@click.option("--department", default=None, help="department code (backoffice, supervisor)")
@click.option("--name", required=True, help="the person's name as staff and records show it")
@with_appcontext
def staff_create(username, role, department, name):
    """Create an account; the password is asked for, or read from stdin when it is not a tty."""
    from .platform.errors import ServiceError
    from .services.admin import staff

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        account = staff.create(username, password, role, name, department)
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    where = f"/{department}" if department else ""
    click.echo(
        f"created staff account {account.username} ({role}{where}, "
        f"principal {account.principal_id})"
    )


@staff_group.command("list")
@with_appcontext
def staff_list():
    """List accounts (never their passwords)."""
    from .services.admin import staff

    for account, principal in staff.listing():
        state = "revoked" if principal.revoked_at else "active"
        click.echo(
            f"{account.username}\t{principal.role}\t{principal.department or '-'}\t"
            f"{principal.name}\t{state}"
        )
