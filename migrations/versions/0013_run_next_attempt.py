"""a run waiting for a quota window keeps the time of its next attempt

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN and DROP COLUMN (SQLite 3.35+): no rebuild of a table with references.
    op.add_column('robot_job_runs', sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('robot_job_runs', 'next_attempt_at')
