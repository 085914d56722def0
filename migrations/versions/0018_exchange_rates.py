"""the ECB's daily euro reference rates, for reports in one reporting currency

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 03:15:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "robot_exchange_rates",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("rate", sa.Numeric(18, 6), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", "currency", name="pk_robot_exchange_rates"),
    )


def downgrade():
    op.drop_table("robot_exchange_rates")
