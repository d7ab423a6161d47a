"""Alembic environment: migrates the database of the current Flask app."""

import logging

from alembic import context
from flask import current_app

log = logging.getLogger("alembic.env")
config = context.config
db = current_app.extensions["migrate"].db


def run_migrations_offline():
    """Emit SQL for the configured URL without connecting."""
    context.configure(
        url=db.engine.url.render_as_string(hide_password=False),
        target_metadata=db.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Migrate over a live connection; an autogenerate with no changes writes no file."""

    def skip_empty(_context, _revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            log.info("No changes in schema detected.")

    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            process_revision_directives=skip_empty,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
