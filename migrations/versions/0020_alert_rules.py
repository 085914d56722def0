"""alert rules: campaign days indexed by account and day (rules sum every campaign of the
accounts over runs of days)

Revision ID: 0020
Revises: 0014
Create Date: 2026-12-04 03:30:00

"""
from alembic import op

revision = "0020"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_robot_stats_campaign_days_account_day", "robot_stats_campaign_days",
                    ["client_account_id", "day"])


def downgrade():
    op.drop_index("ix_robot_stats_campaign_days_account_day",
                  table_name="robot_stats_campaign_days")
