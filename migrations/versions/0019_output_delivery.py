"""finished outputs e-mailed to a job's recipients: the job's list and one delivery per run and
recipient, with the download link's hashed token

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 03:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no rebuild of robot_jobs, whose count triggers stay in place).
    op.add_column("robot_jobs", sa.Column("email_recipients", sa.JSON(), nullable=False,
                                          server_default=sa.text("'[]'")))
    op.create_table(
        "robot_output_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("is_attached", sa.Boolean(), nullable=False),
        sa.Column("link_token_hash", sa.String(64), nullable=True),
        sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["robot_job_runs.id"],
                                name="fk_robot_output_deliveries_run_id_robot_job_runs",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["robot_users.id"],
                                name="fk_robot_output_deliveries_user_id_robot_users",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_robot_output_deliveries"),
        sa.UniqueConstraint("run_id", "recipient", name="uq_robot_output_deliveries_run_id_recipient"),
        sa.UniqueConstraint("link_token_hash", name="uq_robot_output_deliveries_link_token_hash"),
    )
    op.create_index("ix_robot_output_deliveries_due", "robot_output_deliveries",
                    ["status", "next_attempt_at"])
    op.create_index("ix_robot_output_deliveries_run_id", "robot_output_deliveries", ["run_id"])
    op.create_index("ix_robot_output_deliveries_user_id", "robot_output_deliveries", ["user_id"])


def downgrade():
    op.drop_table("robot_output_deliveries")
    op.drop_column("robot_jobs", "email_recipients")
