"""a run waiting for a quota window keeps the time of its next attempt

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-03 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('robot_job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('robot_job_runs', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')
