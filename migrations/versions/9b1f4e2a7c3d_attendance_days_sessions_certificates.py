"""Attendance per day and per session, certificates of attendance, meeting spans

Revision ID: 9b1f4e2a7c3d
Revises: 6e8a1b3c5d7f
Create Date: 2026-12-09 10:00:00.000000

"""
from datetime import UTC
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b1f4e2a7c3d'
down_revision = '6e8a1b3c5d7f'
branch_labels = None
depends_on = None

OLD_SITE_ADMISSION = "result = 'admitted' AND annulled_at IS NULL AND site_id IS NOT NULL"
SITE_ADMISSION = OLD_SITE_ADMISSION + " AND session_id IS NULL"
SESSION_ADMISSION = "result = 'admitted' AND annulled_at IS NULL AND session_id IS NOT NULL"
OLD_ONLINE_RECORD = 'annulled_at IS NULL AND site_id IS NULL'
ONLINE_RECORD = OLD_ONLINE_RECORD + ' AND session_id IS NULL'
METHOD_CHECK = "method IN ('qr', 'search', 'walk_in', 'online_join', 'online_report')"
METHOD_CHECK_WITH_PAPER = "method IN ('qr', 'search', 'walk_in', 'online_join', 'online_report', 'paper')"
COMPLETION_RULE_CHECK = "completion_rule IN ('any_day', 'all_days', 'share_of_sessions')"
COMPLETION_PERCENT_CHECK = 'completion_percent BETWEEN 1 AND 100'


def upgrade():
    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_certificates_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['staff_users.id'], name=op.f('fk_certificates_issued_by_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_certificates_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('code', name=op.f('uq_certificates_code')),
    sa.UniqueConstraint('registration_id', name=op.f('uq_certificates_registration_id'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_event_id'), ['event_id'], unique=False)

    op.create_table('meeting_spans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.Column('left_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('left_at >= joined_at', name=op.f('ck_meeting_spans_left_after_joined')),
    sa.CheckConstraint('registration_id IS NULL OR site_id IS NULL', name=op.f('ck_meeting_spans_one_person_or_one_site')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_meeting_spans_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_meeting_spans_registration_id_registrations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_meeting_spans_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_spans')),
    sa.UniqueConstraint('event_id', 'label', 'joined_at', 'left_at', name=op.f('uq_meeting_spans_event_id_label_joined_at_left_at'))
    )
    with op.batch_alter_table('meeting_spans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_spans_registration_id'), ['registration_id'], unique=False)

    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('counts_attendance', sa.Boolean(), nullable=False, server_default=sa.false()))

    # Each check-in counts for the event's local day it happened on.
    op.add_column('checkins', sa.Column('day', sa.Date(), nullable=True))
    _fill_in_days()
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.alter_column('day', existing_type=sa.Date(), nullable=False)
        batch_op.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(op.f('ck_checkins_checkinmethod'), type_='check')
        batch_op.create_check_constraint(op.f('ck_checkins_checkinmethod'), METHOD_CHECK_WITH_PAPER)
        batch_op.drop_index('uq_checkins_one_online_record', sqlite_where=sa.text(OLD_ONLINE_RECORD), postgresql_where=sa.text(OLD_ONLINE_RECORD))
        batch_op.create_index('uq_checkins_one_online_record', ['registration_id', 'method', 'day'], unique=True, sqlite_where=sa.text(ONLINE_RECORD), postgresql_where=sa.text(ONLINE_RECORD))
        batch_op.drop_index('uq_checkins_one_site_admission', sqlite_where=sa.text(OLD_SITE_ADMISSION), postgresql_where=sa.text(OLD_SITE_ADMISSION))
        batch_op.create_index('uq_checkins_one_site_admission', ['registration_id', 'day'], unique=True, sqlite_where=sa.text(SITE_ADMISSION), postgresql_where=sa.text(SITE_ADMISSION))
        batch_op.create_index('uq_checkins_one_session_admission', ['registration_id', 'session_id'], unique=True, sqlite_where=sa.text(SESSION_ADMISSION), postgresql_where=sa.text(SESSION_ADMISSION))
        batch_op.create_foreign_key(batch_op.f('fk_checkins_session_id_agenda_items'), 'agenda_items', ['session_id'], ['id'], ondelete='RESTRICT')

    # Plain columns on events: on SQLite a batch copy of events would cascade to every
    # registration (see 6e8a1b3c5d7f), so the checks are added on PostgreSQL only.
    op.add_column('events', sa.Column('completion_rule', sa.String(length=32), nullable=False, server_default='any_day'))
    op.add_column('events', sa.Column('completion_percent', sa.Integer(), nullable=False, server_default='80'))
    op.add_column('events', sa.Column('certificate_signer', sa.String(length=200), nullable=False, server_default=''))
    op.add_column('events', sa.Column('certificate_signature', sa.LargeBinary(), nullable=True))
    op.add_column('events', sa.Column('certificate_signature_type', sa.String(length=32), nullable=False, server_default=''))
    if not _recreates_tables():
        op.create_check_constraint(op.f('ck_events_completionrule'), 'events', COMPLETION_RULE_CHECK)
        op.create_check_constraint(op.f('ck_events_completion_percent_in_range'), 'events', COMPLETION_PERCENT_CHECK)


def _fill_in_days():
    """Set each existing check-in's day: its scan time in its event's own time zone."""
    connection = op.get_bind()
    checkins = sa.table('checkins', sa.column('id', sa.Integer), sa.column('event_id', sa.Integer), sa.column('scanned_at', sa.DateTime), sa.column('day', sa.Date))
    events = sa.table('events', sa.column('id', sa.Integer), sa.column('timezone', sa.String))
    zones = {event_id: ZoneInfo(name) for event_id, name in connection.execute(sa.select(events.c.id, events.c.timezone))}
    rows = connection.execute(sa.select(checkins.c.id, checkins.c.event_id, checkins.c.scanned_at)).all()
    days = [
        {'checkin_id': checkin_id, 'day': scanned_at.replace(tzinfo=UTC).astimezone(zones[event_id]).date()}
        for checkin_id, event_id, scanned_at in rows
    ]
    if days:
        connection.execute(
            checkins.update().where(checkins.c.id == sa.bindparam('checkin_id')).values(day=sa.bindparam('day')),
            days,
        )


def _recreates_tables():
    return op.get_bind().dialect.name == 'sqlite'


def downgrade():
    if not _recreates_tables():
        op.drop_constraint(op.f('ck_events_completion_percent_in_range'), 'events', type_='check')
        op.drop_constraint(op.f('ck_events_completionrule'), 'events', type_='check')
    for column in ('certificate_signature_type', 'certificate_signature', 'certificate_signer', 'completion_percent', 'completion_rule'):
        op.drop_column('events', column)

    # Rows that only the new rules allow (a second day, a session, a paper sheet) go.
    op.execute("DELETE FROM checkins WHERE session_id IS NOT NULL OR method = 'paper'")
    op.execute(
        "DELETE FROM checkins WHERE annulled_at IS NULL AND id NOT IN ("
        "SELECT MIN(id) FROM checkins WHERE annulled_at IS NULL GROUP BY registration_id, method, site_id IS NULL, result)"
        " AND (site_id IS NULL OR result = 'admitted')"
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_checkins_session_id_agenda_items'), type_='foreignkey')
        batch_op.drop_index('uq_checkins_one_session_admission', sqlite_where=sa.text(SESSION_ADMISSION), postgresql_where=sa.text(SESSION_ADMISSION))
        batch_op.drop_index('uq_checkins_one_site_admission', sqlite_where=sa.text(SITE_ADMISSION), postgresql_where=sa.text(SITE_ADMISSION))
        batch_op.create_index('uq_checkins_one_site_admission', ['registration_id'], unique=True, sqlite_where=sa.text(OLD_SITE_ADMISSION), postgresql_where=sa.text(OLD_SITE_ADMISSION))
        batch_op.drop_index('uq_checkins_one_online_record', sqlite_where=sa.text(ONLINE_RECORD), postgresql_where=sa.text(ONLINE_RECORD))
        batch_op.create_index('uq_checkins_one_online_record', ['registration_id', 'method'], unique=True, sqlite_where=sa.text(OLD_ONLINE_RECORD), postgresql_where=sa.text(OLD_ONLINE_RECORD))
        batch_op.drop_constraint(op.f('ck_checkins_checkinmethod'), type_='check')
        batch_op.create_check_constraint(op.f('ck_checkins_checkinmethod'), METHOD_CHECK)
        batch_op.drop_column('session_id')
        batch_op.drop_column('day')

    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_column('counts_attendance')

    with op.batch_alter_table('meeting_spans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_spans_registration_id'))
    op.drop_table('meeting_spans')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_event_id'))
    op.drop_table('certificates')
