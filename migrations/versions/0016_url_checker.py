"""the URL checker's progress per run: the collected URLs and each one's result

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-04 03:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "robot_url_check_runs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url_count", sa.Integer(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["robot_job_runs.id"],
                                name="fk_robot_url_check_runs_run", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_robot_url_check_runs")),
    )
    op.create_table(
        "robot_url_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url_hash", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("uses", sa.JSON(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("chain", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("response_ms", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["robot_job_runs.id"],
                                name="fk_robot_url_checks_run", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_robot_url_checks")),
        sa.UniqueConstraint("run_id", "url_hash", name=op.f("uq_robot_url_checks_run_id_url_hash")),
    )
    op.create_index("ix_robot_url_checks_run_position", "robot_url_checks", ["run_id", "position"])


def downgrade():
    op.drop_index("ix_robot_url_checks_run_position", table_name="robot_url_checks")
    op.drop_table("robot_url_checks")
    op.drop_table("robot_url_check_runs")
