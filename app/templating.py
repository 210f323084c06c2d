"""Template filters and globals: times in the event's zone, labels, languages, static URLs."""

from datetime import datetime

from babel.dates import format_date, format_datetime, format_time
from flask import Flask, current_app, request, session
from flask_babel import get_locale

from app import labels, static_files


def _zone_of(event_or_zone):
    return getattr(event_or_zone, "zone", event_or_zone)


def event_datetime(moment: datetime | None, event, fmt: str = "medium") -> str:
    """A UTC moment shown in the event's zone, in the page's language."""
    if moment is None:
        return ""
    return format_datetime(moment, fmt, tzinfo=_zone_of(event), locale=get_locale())


def event_date(moment: datetime | None, event, fmt: str = "full") -> str:
    if moment is None:
        return ""
    local = moment.astimezone(_zone_of(event))
    return format_date(local.date(), fmt, locale=get_locale())


def event_time(moment: datetime | None, event, fmt: str = "short") -> str:
    if moment is None:
        return ""
    return format_time(moment, fmt, tzinfo=_zone_of(event), locale=get_locale())


def event_span(event) -> str:
    """When an event happens in its zone, e.g. "12 December 2026, 10:00–13:30 (Asia/Ashgabat)"."""
    start, end = event.starts_at, event.ends_at
    if event.local(start).date() == event.local(end).date():
        times = f"{event_time(start, event)}–{event_time(end, event)}"
    else:
        times = f"{event_time(start, event)} – {event_datetime(end, event, 'medium')}"
    return f"{event_date(start, event)}, {times} ({event.timezone})"


def register(app: Flask) -> None:
    static_files.register(app)
    app.add_template_filter(event_span)
    app.add_template_filter(event_datetime)
    app.add_template_filter(event_date)
    app.add_template_filter(event_time)

    @app.context_processor
    def inject_globals():
        return {
            "labels": labels,
            "languages": current_app.config["LANGUAGES"],
            "language_names": labels.LANGUAGE_NAMES,
            "current_language": str(get_locale()),
        }

    @app.before_request
    def remember_language():
        # ?lang=ru switches the language for the rest of the visit.
        lang = request.args.get("lang")
        if lang in current_app.config["LANGUAGES"]:
            session["lang"] = lang
