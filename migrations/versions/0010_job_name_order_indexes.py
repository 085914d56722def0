"""job lists in name order from an index

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-25 17:20:00

The folder page and search sort jobs by lower(name): an expression index per folder and per user
hands a page over in that order instead of sorting every job of a large folder on each request.
"""
from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_robot_jobs_user_name", table_name="robot_jobs")
    op.create_index("ix_robot_jobs_user_lower_name", "robot_jobs",
                    ["user_id", sa.text("lower(name)"), "id"], unique=False)
    op.create_index("ix_robot_jobs_folder_lower_name", "robot_jobs",
                    ["folder_id", sa.text("lower(name)"), "id"], unique=False)


def downgrade():
    op.drop_index("ix_robot_jobs_folder_lower_name", table_name="robot_jobs")
    op.drop_index("ix_robot_jobs_user_lower_name", table_name="robot_jobs")
    op.create_index("ix_robot_jobs_user_name", "robot_jobs", ["user_id", "name"], unique=False)
