"""Translated labels for the enums, shared by forms, pages, emails and exports."""

from flask_babel import lazy_gettext as _l

from app.models import (
    CheckInMethod,
    EventFormat,
    EventStatus,
    Gender,
    Mode,
    OrgKind,
    RefusalReason,
    RegistrationStatus,
    Role,
)

ORG_KIND = {
    OrgKind.STATE: _l("State institution"),
    OrgKind.PUBLIC: _l("Public organisation"),
    OrgKind.INFO_CENTRE: _l("Information centre"),
    OrgKind.MEDIA: _l("Media"),
    OrgKind.INTERNATIONAL: _l("International organisation"),
    OrgKind.EXPERT: _l("Expert"),
    OrgKind.OTHER: _l("Other"),
}

GENDER = {
    Gender.FEMALE: _l("Female"),
    Gender.MALE: _l("Male"),
    Gender.OTHER: _l("Other"),
}

MODE = {
    Mode.IN_PERSON: _l("In person"),
    Mode.ONLINE: _l("Online"),
}

REGISTRATION_STATUS = {
    RegistrationStatus.CONFIRMED: _l("Confirmed"),
    RegistrationStatus.WAITLISTED: _l("Waitlisted"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}

EVENT_FORMAT = {
    EventFormat.HYBRID: _l("Hybrid: in person and online"),
    EventFormat.IN_PERSON: _l("In person only"),
    EventFormat.ONLINE: _l("Online only"),
}

EVENT_STATUS = {
    EventStatus.DRAFT: _l("Draft"),
    EventStatus.PUBLISHED: _l("Published"),
    EventStatus.CANCELLED: _l("Cancelled"),
}

CHECKIN_METHOD = {
    CheckInMethod.QR: _l("QR scan"),
    CheckInMethod.SEARCH: _l("Manual search"),
    CheckInMethod.WALK_IN: _l("Walk-in"),
    CheckInMethod.ONLINE_JOIN: _l("Online join link"),
    CheckInMethod.ONLINE_REPORT: _l("Online meeting report"),
}

REFUSAL_REASON = {
    RefusalReason.ALREADY_CHECKED_IN: _l("Already checked in"),
    RefusalReason.WRONG_SITE: _l("Registered for another site"),
    RefusalReason.NOT_ADMITTED: _l("Not admitted (cancelled or waitlisted)"),
    RefusalReason.UNKNOWN_CODE: _l("Unknown code"),
}

ROLE = {
    Role.ADMIN: _l("Admin"),
    Role.ORGANIZER: _l("Organiser"),
    Role.COORDINATOR: _l("Coordinator"),
}

LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "tk": "Türkmençe"}
