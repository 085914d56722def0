"""what each finished run delivered (client accounts and days), for numbers that moved after
delivery; the campaign days' account-and-day index anomaly detection reads through

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 03:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "robot_run_coverage",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("client_account_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["robot_job_runs.id"],
                                name="fk_robot_run_coverage_run_id_robot_job_runs",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_account_id"], ["robot_client_accounts.id"],
                                name="fk_robot_run_coverage_account", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["job_id"], ["robot_jobs.id"],
                                name="fk_robot_run_coverage_job_id_robot_jobs",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "client_account_id", name="pk_robot_run_coverage"),
    )
    op.create_index("ix_robot_run_coverage_account_days", "robot_run_coverage",
                    ["client_account_id", "last_day"])
    op.create_index("ix_robot_run_coverage_job_id", "robot_run_coverage", ["job_id"])
    op.create_index("ix_robot_stats_campaign_days_account_day", "robot_stats_campaign_days",
                    ["client_account_id", "day"])


def downgrade():
    op.drop_index("ix_robot_stats_campaign_days_account_day",
                  table_name="robot_stats_campaign_days")
    op.drop_index("ix_robot_run_coverage_job_id", table_name="robot_run_coverage")
    op.drop_index("ix_robot_run_coverage_account_days", table_name="robot_run_coverage")
    op.drop_table("robot_run_coverage")
