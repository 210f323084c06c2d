"""Input no feature can store: NUL bytes anywhere, control characters in one-line text.

PostgreSQL's text columns cannot hold U+0000, so a NUL that reaches a query
fails it, and SQLite would store it. ``refuse_nul`` runs before every view
and answers 400 for a NUL in the path, the query string, a form or a JSON
body, so no feature has to remember it. The other control characters are
refused at the field they were typed in: see ``app.forms.single_line`` and
the API's body checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from flask import Flask, request
from flask_babel import gettext as _

from app.errors import render_error, wants_json

NUL = "\x00"
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
#: What no name or one-line text holds: C0 controls but tab, newline and carriage return; DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_character(text: str) -> bool:
    """True for text with a control character no name or one-line text has."""
    return CONTROL_CHARACTERS.search(text) is not None


def strings_in(value: object) -> Iterator[str]:
    """Every string in a parsed JSON value, keys included, however deeply nested."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _pairs(multidict) -> Iterable[str]:
    for key, value in multidict.items(multi=True):
        yield key
        yield value


def _submitted_strings() -> Iterator[str]:
    """The text of the request a view may read: path, query string, form fields, JSON."""
    yield request.path
    yield from _pairs(request.args)
    if request.is_json or wants_json():
        # The API reads any body as JSON, whatever its content type says.
        yield from strings_in(request.get_json(force=True, silent=True))
    elif request.mimetype in FORM_TYPES:
        yield from _pairs(request.form)
        yield from (upload.filename or "" for _name, upload in request.files.items(multi=True))


def refuse_nul():
    """Answer 400 (the API's error JSON, or the error page) for a NUL anywhere in the request."""
    try:
        has_nul = any(NUL in text for text in _submitted_strings())
    except RecursionError:
        # JSON nested too deeply to parse is no request any client sends.
        return render_error(400)
    if has_nul:
        return render_error(400, _("The request contains a NUL character, which is not allowed."))
    return None


def register(app: Flask) -> None:
    app.before_request(refuse_nul)
