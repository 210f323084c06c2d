"""The one way the rules say no: a machine word, a message for people, and its field.

A service raises ``Refusal`` before it writes anything it would have to undo;
it never knows about HTTP. The JSON API turns the reason into a status in one
table (``app/api/routes.py``), and an HTML view shows each message at its
form field (``app/web.py``), the way pretix's ``CheckInError(msg, code)`` is
used by its scanner API and its pages alike.
"""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    """Why a rule refused. The words are part of the JSON API."""

    #: The input breaks a rule of its own (a field error).
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    #: A slug, email or client_id that must be unique is in use already.
    TAKEN = "taken"
    #: The change would break a rule about other records (the last admin, booked seats).
    CONFLICT = "conflict"
    NOT_OPEN = "not_open"
    UNKNOWN_SITE = "unknown_site"
    SITE_FULL = "site_full"
    ALREADY_REGISTERED = "already_registered"
    NOTHING_TO_UNDO = "nothing_to_undo"


class Refusal(Exception):
    """A change or request the rules refuse; nothing has been written.

    ``errors`` maps form fields (None: the form as a whole) to messages; most
    refusals have one, a form checked field by field may have several.
    """

    def __init__(self, reason: Reason, message: str, field: str | None = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field
        self.errors: dict[str | None, str] = {field: message}

    @classmethod
    def of_fields(cls, errors: dict[str | None, str], reason: Reason = Reason.INVALID) -> Refusal:
        """One refusal for several fields at once, e.g. two times that do not exist."""
        field, message = next(iter(errors.items()))
        refusal = cls(reason, message, field)
        refusal.errors = dict(errors)
        return refusal
