"""the statistics store: daily rows per client account and per campaign, its refresh state, and
each client's pacing tolerance

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 23:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _metrics() -> list[sa.Column]:
    return [
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("cost_micros", sa.BigInteger(), nullable=False),
        sa.Column("conversions", sa.Numeric(18, 4), nullable=False),
        sa.Column("conversion_value_micros", sa.BigInteger(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade():
    op.create_table(
        "robot_stats_account_days",
        sa.Column("client_account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        *_metrics(),
        sa.ForeignKeyConstraint(["client_account_id"], ["robot_client_accounts.id"],
                                name="fk_robot_stats_account_days_account",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["robot_users.id"],
                                name="fk_robot_stats_account_days_user_id_robot_users",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_account_id", "day", name="pk_robot_stats_account_days"),
    )
    op.create_index("ix_robot_stats_account_days_user_day", "robot_stats_account_days",
                    ["user_id", "day"])
    op.create_table(
        "robot_stats_campaign_days",
        sa.Column("client_account_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("campaign_name", sa.String(255), nullable=False),
        *_metrics(),
        sa.ForeignKeyConstraint(["client_account_id"], ["robot_client_accounts.id"],
                                name="fk_robot_stats_campaign_days_account",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_account_id", "campaign_id", "day",
                                name="pk_robot_stats_campaign_days"),
    )
    op.create_table(
        "robot_stats_states",
        sa.Column("client_account_id", sa.Integer(), nullable=False),
        sa.Column("next_refresh_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_through", sa.Date(), nullable=True),
        sa.Column("backfill_from", sa.Date(), nullable=True),
        sa.Column("backfill_until", sa.Date(), nullable=True),
        sa.Column("backfill_done_from", sa.Date(), nullable=True),
        sa.Column("backfill_next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("backfill_attempts", sa.Integer(), nullable=False,
                  server_default=sa.text("0")),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_account_id"], ["robot_client_accounts.id"],
                                name="fk_robot_stats_states_account",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_account_id", name="pk_robot_stats_states"),
    )
    op.create_index("ix_robot_stats_states_next_refresh_at", "robot_stats_states",
                    ["next_refresh_at"])
    op.create_index("ix_robot_stats_states_backfill_next_at", "robot_stats_states",
                    ["backfill_next_at"])
    # A plain ADD COLUMN (no batch rebuild of a table others refer to).
    op.add_column("robot_clients", sa.Column("pacing_tolerance", sa.Numeric(5, 2), nullable=False,
                                             server_default=sa.text("10")))


def downgrade():
    op.drop_column("robot_clients", "pacing_tolerance")
    op.drop_index("ix_robot_stats_states_backfill_next_at", table_name="robot_stats_states")
    op.drop_index("ix_robot_stats_states_next_refresh_at", table_name="robot_stats_states")
    op.drop_table("robot_stats_states")
    op.drop_table("robot_stats_campaign_days")
    op.drop_index("ix_robot_stats_account_days_user_day", table_name="robot_stats_account_days")
    op.drop_table("robot_stats_account_days")
