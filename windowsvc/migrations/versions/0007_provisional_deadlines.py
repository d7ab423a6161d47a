"""Provisional deadlines: a flag on every stored deadline, the history of loaded notices, and
the calendar's revision (one row every process compares with, locked while a notice loads).

Every deadline stored before this revision was counted on official data (the engine refused a
year without it), so the flags start false.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import windowsvc.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = windowsvc.db.UTCDateTime(timezone=True)
FLAGS = (
    ("applications", "due_date_provisional"),
    ("applications", "legal_due_date_provisional"),
    ("steps", "due_date_provisional"),
    ("rectifications", "due_date_provisional"),
)


def upgrade():
    # plain ADD COLUMN (SQLite supports it with a constant default): a batch operation would
    # copy the table and rebuild its indexes from reflection, losing ix_steps_queue's
    # "priority DESC" and with it the queue order fetch-and-lock reads from the index
    for table, column in FLAGS:
        op.add_column(
            table, sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # working days a step's due date was moved on by pauses (NULL: moved before this revision,
    # worked out from its official dates the first time it moves again)
    op.add_column("steps", sa.Column("moved_working_days", sa.Integer(), nullable=True))
    # the working days a work order was given (the setting may change later)
    op.add_column("rectifications", sa.Column("due_working_days", sa.Integer(), nullable=True))
    op.create_table(
        "calendar_loads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("by_name", sa.String(length=100), nullable=False),
        sa.Column("years", JSON, nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recomputed", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_loads")),
    )
    op.add_column("calendar_years", sa.Column("loaded_at", UTC, nullable=True))
    state = op.create_table(
        "calendar_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_state")),
    )
    op.bulk_insert(state, [{"id": 1, "revision": 0}])


def downgrade():
    op.drop_table("calendar_state")
    op.drop_column("calendar_years", "loaded_at")
    op.drop_table("calendar_loads")
    op.drop_column("rectifications", "due_working_days")
    op.drop_column("steps", "moved_working_days")
    for table, column in reversed(FLAGS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
    # the batch copy of steps rebuilt its indexes from reflection: give the queue index back
    # its descending priority
    op.drop_index("ix_steps_queue", table_name="steps")
    op.create_index(
        "ix_steps_queue",
        "steps",
        ["department", "state", sa.literal_column("priority DESC"), "due_date", "id"],
    )
