"""Staff accounts for the pages: a username and a scrypt password hash per principal.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import windowsvc.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UTC = windowsvc.db.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", UTC, nullable=True),
        sa.Column("last_sign_in_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name=op.f("fk_staff_accounts_principal_id_principals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_accounts_username")),
        sa.UniqueConstraint("principal_id", name=op.f("uq_staff_accounts_principal_id")),
    )


def downgrade():
    op.drop_table("staff_accounts")
