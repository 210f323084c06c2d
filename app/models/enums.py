"""The fixed vocabularies of the model, stored by their values (see ``_enum``)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ADMIN = "admin"
    ORGANIZER = "organizer"
    COORDINATOR = "coordinator"


class EventFormat(enum.StrEnum):
    HYBRID = "hybrid"
    IN_PERSON = "in_person"
    ONLINE = "online"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class Mode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class OrgKind(enum.StrEnum):
    STATE = "state"
    PUBLIC = "public"
    INFO_CENTRE = "info_centre"
    MEDIA = "media"
    INTERNATIONAL = "international"
    EXPERT = "expert"
    OTHER = "other"


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class CheckInMethod(enum.StrEnum):
    QR = "qr"
    SEARCH = "search"
    WALK_IN = "walk_in"
    ONLINE_JOIN = "online_join"
    ONLINE_REPORT = "online_report"
    #: Ticked on a printed sign-in sheet and recorded afterwards by a coordinator.
    PAPER = "paper"


class CheckInResult(enum.StrEnum):
    ADMITTED = "admitted"
    REFUSED = "refused"


class RegistrationState(enum.StrEnum):
    """Whether an event takes registrations now, and if not, why."""

    OPEN = "open"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    DRAFT = "draft"
    OVER = "over"


class MessageKind(enum.StrEnum):
    """What an email to a participant is about."""

    CONFIRMATION = "confirmation"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    CANCELLED = "cancelled"
    UPDATED = "updated"
    LINK_RESEND = "link_resend"
    EVENT_CANCELLED = "event_cancelled"
    #: A message an organiser wrote to a group of participants.
    CAMPAIGN = "campaign"
    REMINDER = "reminder"
    CERTIFICATE = "certificate"


class RefusalReason(enum.StrEnum):
    ALREADY_CHECKED_IN = "already_checked_in"
    WRONG_SITE = "wrong_site"
    NOT_ADMITTED = "not_admitted"
    UNKNOWN_CODE = "unknown_code"


class CompletionRule(enum.StrEnum):
    """What a participant must have attended to have completed the event."""

    #: Attended on at least one day.
    ANY_DAY = "any_day"
    #: Attended on every day of the event.
    ALL_DAYS = "all_days"
    #: Attended at least ``completion_percent`` of the sessions that count attendance.
    SHARE_OF_SESSIONS = "share_of_sessions"
