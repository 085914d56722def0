"""a user's interface language (none: the browser's)

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-04 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('robot_users', sa.Column('locale', sa.String(length=8), nullable=True))


def downgrade():
    op.drop_column('robot_users', 'locale')
