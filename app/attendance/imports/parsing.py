"""Reading Zoom and Teams meeting reports into join and leave segments."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from flask_babel import gettext as _


class ReportFormatError(ValueError):
    """A file that is not a report we can read; the message is for the organiser."""


class ReportSource(StrEnum):
    ZOOM = "zoom"
    TEAMS = "teams"


@dataclass(frozen=True)
class Segment:
    """One stretch of time a participant spent in the meeting."""

    name: str
    email: str
    joined_at: datetime
    left_at: datetime
    #: Zoom's "(Original Name)" when the person renamed themselves.
    original_name: str = ""


@dataclass(frozen=True)
class ParsedReport:
    source: ReportSource
    segments: list[Segment]
    title: str = ""


# --- decoding ---------------------------------------------------------------


def decode_report(data: bytes) -> str:
    """The text of an uploaded report: UTF-16 with a BOM (Teams) or UTF-8 (Zoom)."""
    if not data or not data.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise ReportFormatError(_("The file is empty."))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif b"\x00" in data[:200]:
        # UTF-16 saved without a BOM: the zero bytes say which half is high.
        encoding = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ReportFormatError(
            _(
                "The file's text encoding could not be read. Export the report again "
                "from Zoom or Teams and upload it unchanged (UTF-8 or UTF-16)."
            )
        ) from error
    if "\x00" in text:
        raise ReportFormatError(_("This does not look like a text file."))
    return text


# --- dates ------------------------------------------------------------------

_DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d-%m-%Y",
)
_TIME_FORMATS = ("%I:%M:%S %p", "%I:%M %p", "%H:%M:%S", "%H:%M")
_SPACES = re.compile(r"\s+")


def _normalise_moment(value: str) -> str:
    # Newer locales put a narrow no-break space before AM/PM; Teams puts a comma
    # between date and time; ISO puts a T.
    value = value.replace("\u202f", " ").replace("\xa0", " ").replace(",", " ")
    value = re.sub(r"^(\d{4}-\d\d-\d\d)T", r"\1 ", value.strip())
    value = re.sub(r"(:\d\d)\.\d+", r"\1", value)  # fractions of a second
    value = re.sub(r"(?i)\b([ap])\.?m\.?$", r"\1M", value)
    return _SPACES.sub(" ", value).strip()


def _parse_all(values: list[str], fmt: str) -> list[datetime] | None:
    parsed = []
    for value in values:
        try:
            moment = datetime.strptime(value, fmt)  # noqa: DTZ007 (the zone is applied later)
        except ValueError:
            return None
        if moment.year < 2000:
            return None
        parsed.append(moment)
    return parsed


def parse_moments(
    values: list[str], zone: ZoneInfo, near: datetime | None = None
) -> list[datetime]:
    """Parse a column of local date-times in one format, found from the values themselves.

    Reports are written in the exporting user's locale, so 03/04 may be March
    or April. Every format that reads all the values is a candidate; the one
    whose dates fall closest to the event wins.
    """
    cleaned = [_normalise_moment(v) for v in values]
    candidates: list[list[datetime]] = []
    for date_format in _DATE_FORMATS:
        for time_format in _TIME_FORMATS:
            parsed = _parse_all(cleaned, f"{date_format} {time_format}")
            if parsed is not None:
                candidates.append(parsed)
                break
    if not candidates:
        raise ValueError("no common date format")
    if near is not None and len(candidates) > 1:
        anchor = near.astimezone(zone).replace(tzinfo=None)
        candidates.sort(key=lambda parsed: abs((parsed[0] - anchor).total_seconds()))
    return [moment.replace(tzinfo=zone).astimezone(UTC) for moment in candidates[0]]


def _is_moment_column(values: list[str]) -> bool:
    values = [v for v in values if v.strip()]
    if not values:
        return False
    try:
        parse_moments(values[:50], UTC)
    except ValueError:
        return False
    return True


# --- tables -----------------------------------------------------------------


def _rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.strip()]
    # Teams separates with tabs and has commas inside its dates; Zoom uses commas.
    delimiter = "\t" if sum("\t" in line for line in lines) * 2 >= len(lines) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [[cell.strip() for cell in row] for row in reader]
    except csv.Error as error:
        raise ReportFormatError(_("The file could not be read as a table.")) from error


def _blank(row: list[str]) -> bool:
    return not any(row)


@dataclass
class _Columns:
    name: int
    email: int | None
    joined: int
    left: int


def _find_columns(header: list[str], data: list[list[str]]) -> _Columns | None:
    """Find the columns by their contents, so localised headers do not matter."""
    width = max((len(row) for row in data), default=0)

    def column(index: int) -> list[str]:
        return [row[index] if index < len(row) else "" for row in data]

    moment_columns = [i for i in range(width) if _is_moment_column(column(i))]
    if len(moment_columns) < 2:
        return None
    email = None
    for i in range(width):
        values = [v for v in column(i) if v]
        if i not in moment_columns and values and sum("@" in v for v in values) * 2 >= len(values):
            email = i
            break
    lowered = [cell.lower() for cell in header]
    name = next(
        (i for i, cell in enumerate(lowered) if "name" in cell and i not in moment_columns), 0
    )
    return _Columns(name=name, email=email, joined=moment_columns[0], left=moment_columns[1])


def _segments(
    header: list[str], data: list[list[str]], zone: ZoneInfo, near: datetime | None
) -> list[Segment]:
    data = [row for row in data if not _blank(row)]
    if not data:
        raise ReportFormatError(_("The report lists no participants."))
    columns = _find_columns(header, data)
    if columns is None:
        raise ReportFormatError(_("The report has no join and leave times that could be read."))

    def cell(row: list[str], index: int | None) -> str:
        return row[index] if index is not None and index < len(row) else ""

    try:
        joined = parse_moments([cell(r, columns.joined) for r in data], zone, near)
        left = parse_moments([cell(r, columns.left) for r in data], zone, near)
    except ValueError as error:
        raise ReportFormatError(_("Some join or leave times could not be read.")) from error

    segments = []
    for row, start, end in zip(data, joined, left, strict=True):
        name, original = _split_original_name(cell(row, columns.name))
        if not name and not cell(row, columns.email):
            continue
        if end < start:
            start, end = end, start
        segments.append(
            Segment(
                name=name,
                email=cell(row, columns.email).lower(),
                joined_at=start,
                left_at=end,
                original_name=original,
            )
        )
    if not segments:
        raise ReportFormatError(_("The report lists no participants."))
    return segments


_ORIGINAL_NAME = re.compile(r"^(?P<shown>.+?)\s*\((?P<original>[^()]+)\)$")


def _split_original_name(value: str) -> tuple[str, str]:
    """Zoom writes "Shown name (Original Name)" when someone renamed themselves."""
    match = _ORIGINAL_NAME.match(value)
    if match:
        return match["shown"].strip(), match["original"].strip()
    return value.strip(), ""


_SECTION = re.compile(r"^\s*(\d)\.\s*\S")


def _numbered_sections(rows: list[list[str]]) -> dict[int, list[list[str]]]:
    """Teams' "1. Summary / 2. Participants / 3. In-Meeting Activities", in any language."""
    sections: dict[int, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in rows:
        rest_empty = not any(row[1:])
        match = _SECTION.match(row[0]) if row else None
        if match and rest_empty:
            current = sections.setdefault(int(match.group(1)), [])
        elif current is not None:
            current.append(row)
    return sections


def _table(rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    rows = [row for row in rows if not _blank(row)]
    if not rows:
        return [], []
    return rows[0], rows[1:]


def parse_teams(rows: list[list[str]], zone: ZoneInfo, near: datetime | None) -> ParsedReport:
    """Teams: per-join activities (section 3) when present, else first join to last leave."""
    sections = _numbered_sections(rows)
    title = ""
    for row in sections.get(1, []):
        if len(row) > 1 and row[1]:
            title = row[1]
            break
    for number in (3, 2):
        header, data = _table(sections.get(number, []))
        if data:
            return ParsedReport(ReportSource.TEAMS, _segments(header, data, zone, near), title)
    raise ReportFormatError(_("The report lists no participants."))


_LOOKS_LIKE_MOMENT = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}[ ,T]+\d{1,2}:\d\d")


def parse_zoom(rows: list[list[str]], zone: ZoneInfo, near: datetime | None) -> ParsedReport:
    """Zoom's participants export, with or without the meeting block above the table.

    The participants' header is the last row without any date-time in it: the
    meeting block's values row has its start and end times, the data rows have
    join and leave times. This holds whether or not a blank line separates them.
    """
    rows = [row for row in rows if not _blank(row)]
    header_at = None
    timed_rows = 0
    for index, row in enumerate(rows):
        if any(_LOOKS_LIKE_MOMENT.search(cell) for cell in row):
            timed_rows += 1
        else:
            header_at = index
    if header_at is None:
        raise ReportFormatError(_not_a_report())
    if timed_rows == 0 and len(rows) > 1:
        # Several rows and not one time in them: a table, but not a meeting report.
        raise ReportFormatError(_("The report has no join and leave times that could be read."))
    header, data = rows[header_at], rows[header_at + 1 :]
    title = ""
    for index, row in enumerate(rows[:header_at]):
        topic = next((i for i, cell in enumerate(row) if cell.lower() == "topic"), None)
        if topic is not None and index + 1 < header_at and topic < len(rows[index + 1]):
            title = rows[index + 1][topic]
            break
    return ParsedReport(ReportSource.ZOOM, _segments(header, data, zone, near), title)


def parse_report(data: bytes, zone: ZoneInfo, near: datetime | None = None) -> ParsedReport:
    """Read a Zoom participants CSV or a Teams attendance report; anything else is refused."""
    text = decode_report(data)
    rows = _rows(text)
    if not any(not _blank(row) for row in rows):
        raise ReportFormatError(_("The file is empty."))
    sections = _numbered_sections(rows)
    if 2 in sections or 3 in sections:
        return parse_teams(rows, zone, near)
    try:
        return parse_zoom(rows, zone, near)
    except ReportFormatError:
        raise
    except (IndexError, ValueError) as error:
        raise ReportFormatError(_not_a_report()) from error


def _not_a_report() -> str:
    return _("This is not a Zoom participants report or a Teams attendance report.")
