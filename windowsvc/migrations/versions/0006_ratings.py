"""好差评: ratings (one per case) and their rectification work orders.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import windowsvc.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = windowsvc.db.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("window_principal_id", sa.Integer(), nullable=True),
        sa.Column("departments", JSON, nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("excluded_at", UTC, nullable=True),
        sa.Column("rated_at", UTC, nullable=False),
        sa.Column("rated_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_ratings_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["window_principal_id"],
            ["principals.id"],
            name=op.f("fk_ratings_window_principal_id_principals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("application_id", name=op.f("uq_ratings_application_id")),
    )
    op.create_index(op.f("ix_ratings_rated_on"), "ratings", ["rated_on"], unique=False)
    op.create_table(
        "rectifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("contacted_at", UTC, nullable=True),
        sa.Column("follow_up_summary", sa.Text(), nullable=True),
        sa.Column("followed_up_at", UTC, nullable=True),
        sa.Column("measures", sa.Text(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("appeal_reason", sa.Text(), nullable=True),
        sa.Column("appealed_at", UTC, nullable=True),
        sa.Column("appealed_from", sa.String(length=20), nullable=True),
        sa.Column("appeal_upheld", sa.Boolean(), nullable=True),
        sa.Column("appeal_decision", sa.Text(), nullable=True),
        sa.Column("appeal_decided_at", UTC, nullable=True),
        sa.Column("verdict", sa.String(length=30), nullable=True),
        sa.Column("verdict_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_rectifications_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"], ["ratings.id"], name=op.f("fk_rectifications_rating_id_ratings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectifications")),
        sa.UniqueConstraint("rating_id", name=op.f("uq_rectifications_rating_id")),
    )
    op.create_index(
        op.f("ix_rectifications_application_id"), "rectifications", ["application_id"]
    )
    op.create_index(op.f("ix_rectifications_department"), "rectifications", ["department"])
    op.create_index(op.f("ix_rectifications_state"), "rectifications", ["state"])


def downgrade():
    op.drop_index(op.f("ix_rectifications_state"), table_name="rectifications")
    op.drop_index(op.f("ix_rectifications_department"), table_name="rectifications")
    op.drop_index(op.f("ix_rectifications_application_id"), table_name="rectifications")
    op.drop_table("rectifications")
    op.drop_index(op.f("ix_ratings_rated_on"), table_name="ratings")
    op.drop_table("ratings")
