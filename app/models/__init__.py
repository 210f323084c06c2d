"""The domain model: events, sites, registrations, check-ins, staff, mail and the audit log.

One module per aggregate; this package imports them all, so SQLAlchemy can
resolve the relationships they name by string, and re-exports their public
names: ``from app.models import Event`` is the way to reach any of them.

All times are stored in UTC and come back as aware ``datetime`` objects; pages
convert them to the event's own time zone.
"""

from app.models.base import (
    UTCDateTime,
    hash_api_token,
    new_badge_code,
    new_manage_token,
    utcnow,
)
from app.models.campaigns import Campaign
from app.models.certificates import Certificate, MeetingSpan, new_certificate_code
from app.models.checkins import CheckIn, live_admission, live_site_admission
from app.models.enums import (
    CheckInMethod,
    CheckInResult,
    CompletionRule,
    EventFormat,
    EventStatus,
    Gender,
    MessageKind,
    Mode,
    OrgKind,
    RefusalReason,
    RegistrationState,
    RegistrationStatus,
    Role,
)
from app.models.events import AgendaItem, Event, EventSite, Site
from app.models.outbox import Notice, OutboxMessage
from app.models.privacy import AuditAction, AuditEntry
from app.models.registrations import Registration
from app.models.reminders import Reminder
from app.models.staff import ApiToken, StaffUser, staff_sites

__all__ = [
    "AgendaItem",
    "ApiToken",
    "AuditAction",
    "AuditEntry",
    "Campaign",
    "Certificate",
    "CheckIn",
    "CheckInMethod",
    "CheckInResult",
    "CompletionRule",
    "Event",
    "EventFormat",
    "EventSite",
    "EventStatus",
    "Gender",
    "MessageKind",
    "MeetingSpan",
    "Mode",
    "OrgKind",
    "Notice",
    "OutboxMessage",
    "RefusalReason",
    "Registration",
    "RegistrationState",
    "RegistrationStatus",
    "Reminder",
    "Role",
    "Site",
    "StaffUser",
    "UTCDateTime",
    "hash_api_token",
    "live_admission",
    "live_site_admission",
    "new_badge_code",
    "new_certificate_code",
    "new_manage_token",
    "staff_sites",
    "utcnow",
]
