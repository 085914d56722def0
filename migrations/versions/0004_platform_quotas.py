"""platform quotas: API call counters per login and window

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-25 14:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('robot_platform_quotas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_account_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['service_account_id'], ['robot_service_accounts.id'], name=op.f('fk_robot_platform_quotas_service_account_id_robot_service_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robot_platform_quotas')),
    sa.UniqueConstraint('service_account_id', 'period', name=op.f('uq_robot_platform_quotas_service_account_id_period'))
    )


def downgrade():
    op.drop_table('robot_platform_quotas')
