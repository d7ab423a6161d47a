"""Keep each case's event-chain head on the application row.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_event_seq", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("last_event_hash", sa.String(length=64), nullable=False,
                      server_default="0" * 64)
        )
    # existing cases: the head is their newest event
    op.execute(
        """
        UPDATE applications SET
          last_event_seq = (SELECT e.seq FROM events e WHERE e.application_id = applications.id
                            ORDER BY e.seq DESC LIMIT 1),
          last_event_hash = (SELECT e.hash FROM events e WHERE e.application_id = applications.id
                             ORDER BY e.seq DESC LIMIT 1)
        WHERE EXISTS (SELECT 1 FROM events e WHERE e.application_id = applications.id)
        """
    )


def downgrade():
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("last_event_hash")
        batch_op.drop_column("last_event_seq")
