"""One audit checkpoint per cut: a unique index on ``audit_checkpoints.last_event_id``.

Concurrent sweeps could each decide that a new checkpoint was needed and write the same cut
twice. With the unique cut, the second insert fails and `checkpoint()` treats it as taken.

Checkpoints written twice before this migration are exact repeats (same cut, digest and counts):
the later copies are removed, with the append-only trigger out of the way for that statement
only. Two checkpoints of one cut that *disagree* are evidence for `audit verify`, never removed:
the migration stops and says so.

A unique index rather than a table constraint: on SQLite, adding a constraint recreates the
table, which would drop its append-only triggers (see 0005).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEX = "uq_audit_checkpoints_last_event_id"
_DISAGREEING = """
    SELECT last_event_id FROM audit_checkpoints
    GROUP BY last_event_id
    HAVING COUNT(DISTINCT digest || ':' || event_count || ':' || case_count) > 1
"""
_REPEATS = """
    DELETE FROM audit_checkpoints
    WHERE id NOT IN (SELECT MIN(id) FROM audit_checkpoints GROUP BY last_event_id)
"""


def upgrade():
    bind = op.get_bind()
    disagreeing = [row[0] for row in bind.execute(sa.text(_DISAGREEING))]
    if disagreeing:
        raise RuntimeError(
            "audit_checkpoints holds disagreeing checkpoints of the same cut (last_event_id "
            f"{disagreeing}): run `windowsvc audit verify` and resolve this before migrating"
        )
    repeats = bind.scalar(
        sa.text(
            "SELECT COUNT(*) - COUNT(DISTINCT last_event_id) FROM audit_checkpoints"
        )
    )
    if repeats:
        _without_append_only_guard(bind, _REPEATS)
    op.create_index(INDEX, "audit_checkpoints", ["last_event_id"], unique=True)


def downgrade():
    op.drop_index(INDEX, table_name="audit_checkpoints")


def _without_append_only_guard(bind, statement):
    """Run ``statement`` with the checkpoints' append-only trigger lifted, then put it back."""
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_append_only")
        op.execute(statement)
        op.execute("ALTER TABLE audit_checkpoints ENABLE TRIGGER audit_checkpoints_append_only")
        return
    op.execute("DROP TRIGGER audit_checkpoints_no_delete")
    op.execute(statement)
    op.execute(
        "CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints "
        "BEGIN SELECT RAISE(ABORT, 'audit_checkpoints are append-only'); END"
    )
