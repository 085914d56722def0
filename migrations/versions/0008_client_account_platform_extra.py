"""client accounts keep what their platform needs to reach them

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # Existing accounts start empty: their runs walk the hierarchy until the next sync fills it.
    with op.batch_alter_table('robot_client_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform_extra', sa.JSON(), nullable=False,
                                      server_default=sa.text("'{}'")))


def downgrade():
    with op.batch_alter_table('robot_client_accounts', schema=None) as batch_op:
        batch_op.drop_column('platform_extra')
