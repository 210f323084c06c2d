"""A session version on staff accounts, so that signing out ends every copy of a session

Revision ID: 4d2f0c1a9b7e
Revises: 3c7424c31854
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4d2f0c1a9b7e'
down_revision = '3c7424c31854'
branch_labels = None
depends_on = None


def upgrade():
    # Existing sessions carry the id alone, so they end at the upgrade: everyone signs in again.
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), server_default=sa.text('0'), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
