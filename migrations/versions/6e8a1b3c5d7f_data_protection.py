"""Data protection: each event's retention period, and the audit log

Revision ID: 6e8a1b3c5d7f
Revises: 4d2f0c1a9b7e
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6e8a1b3c5d7f'
down_revision = '4d2f0c1a9b7e'
branch_labels = None
depends_on = None

RETENTION_CHECK = 'personal_data_retention_days IS NULL OR personal_data_retention_days >= 0'


def _recreates_tables():
    # SQLite alters a constraint by copying the table and dropping the old one, and with
    # foreign keys on, dropping events would cascade to every registration: there the
    # form and the service keep the number in range instead.
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('staff_email', sa.String(length=254), nullable=False),
    sa.Column('action', sa.Enum('export', 'view', 'change', 'erase', 'anonymise', name='auditaction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_audit_entries_event_id_events'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_audit_entries_registration_id_registrations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_audit_entries_staff_user_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_event_at', ['event_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)

    # Events that exist already keep their participants' details until an organiser sets
    # a period: nothing is anonymised by surprise.
    op.add_column('events', sa.Column('personal_data_retention_days', sa.Integer(), nullable=True))
    if not _recreates_tables():
        op.create_check_constraint(op.f('ck_events_retention_not_negative'), 'events', RETENTION_CHECK)


def downgrade():
    if not _recreates_tables():
        op.drop_constraint(op.f('ck_events_retention_not_negative'), 'events', type_='check')
    op.drop_column('events', 'personal_data_retention_days')

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))
        batch_op.drop_index('ix_audit_entries_event_at')

    op.drop_table('audit_entries')
