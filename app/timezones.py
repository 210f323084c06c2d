"""IANA time zones, and the wall-clock times organisers type in them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@cache
def _known_zones() -> frozenset[str]:
    # "localtime" would silently mean the server's zone, which no event wants.
    return frozenset(available_timezones() - {"localtime", "posixrules", "Factory"})


def is_valid_timezone(name: str) -> bool:
    """Whether a name is an IANA time zone this server knows."""
    if name not in _known_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in a zone as a UTC moment.

    Raises ValueError for a time skipped by a daylight-saving jump, which
    would otherwise be moved silently by an hour.
    """
    try:
        moment = local.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError as error:
        raise ValueError(f"{local} is out of range") from error
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValueError(f"{local} does not exist in {zone.key}")
    return moment


def utc_to_local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A stored UTC moment as a naive wall-clock time, for a datetime-local input."""
    if moment is None:
        return None
    return moment.astimezone(zone).replace(tzinfo=None)


def keep_if_same_minute(old: datetime | None, new: datetime | None) -> datetime | None:
    """The stored time when a form sent back the same minute, else the new one.

    Forms carry minutes only; a stored time with seconds must not count as
    changed, or saving an unrelated field would send everyone an updated invite.
    """
    if old is not None and new is not None and old.replace(second=0, microsecond=0) == new:
        return old
    return new


#: A date and time in the RFC 3339 form the API describes, with or without its offset.
ISO_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def parse_iso_time(value: object) -> datetime | None:
    """``value`` read as an RFC 3339 date and time (naive when it has no offset); None
    for anything else, including what ``fromisoformat`` reads beyond that form."""
    if not isinstance(value, str) or not ISO_TIME.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError:
        return None
