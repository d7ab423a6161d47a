"""Audit checkpoints, and the database refusing UPDATE and DELETE on the lifecycle record.

The events table (and the checkpoints table) become append-only: row triggers abort any UPDATE or
DELETE. TRUNCATE is left alone on purpose (it fires no row trigger on PostgreSQL; SQLite has none),
so test resets and ``DROP TABLE`` keep working; tampering beyond that is for `audit verify` to find.

Note for later migrations: on SQLite, ``batch_alter_table("events")`` recreates the table and so
drops its triggers; such a migration must create them again (see ``_create_sqlite_triggers``).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import windowsvc.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APPEND_ONLY = ("events", "audit_checkpoints")


def upgrade():
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", windowsvc.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _create_postgres_triggers()
    else:
        _create_sqlite_triggers()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS windowsvc_refuse_change()")
    else:
        for table in APPEND_ONLY:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    op.drop_table("audit_checkpoints")


def _create_sqlite_triggers():
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END"
            )


def _create_postgres_triggers():
    op.execute(
        """
        CREATE FUNCTION windowsvc_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '% are append-only', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
        END
        $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION windowsvc_refuse_change()"
        )
