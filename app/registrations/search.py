"""Finding people by what staff type: every word must occur in their folded search text.

``Registration.search_text`` holds name, organisation and email folded to lower-case
ASCII (``fold_for_search``), as is what is typed: "sukurowa" finds "Şükürowa", and
"шукурова" finds "Шукурова". A word is found anywhere inside it, as a plain substring:
``%`` and ``_`` are letters like any other.

Words of three characters or more are looked up through an index of the event and the
trigrams of the search text: on PostgreSQL a GIN index (pg_trgm and btree_gin) serves
``event_id = ? AND search_text LIKE '%word%'``; on SQLite the FTS5 table
``registrations_search`` (trigram tokenizer) serves a phrase query per word, which
matches the rows containing it, and each is confirmed on the row itself. A shorter word
has no trigram, so it only narrows the rows the longer words found; when every word is
short, the event's rows are scanned.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from app.extensions import db
from app.models import Registration
from app.models.registrations import SEARCH_TABLE

#: The shortest word a trigram index can look up.
INDEXED_WORD_LENGTH = 3

_search_table = sa.table(SEARCH_TABLE, sa.column("rowid"))
#: The FTS5 table's own column, which ``MATCH`` searches (each phrase names its column).
_all_columns = sa.literal_column(SEARCH_TABLE)


def registrations_matching(event_id: int, words: Sequence[str]) -> sa.ColumnElement[bool]:
    """The event's registrations whose search text contains every one of ``words``.

    ``words`` are folded already (``fold_for_search(text).split()``); with none, the
    condition is the event's registrations.
    """
    indexed = [word for word in words if len(word) >= INDEXED_WORD_LENGTH]
    on_sqlite = db.engine.dialect.name == "sqlite"
    in_event: sa.ColumnElement[bool] = Registration.event_id == event_id
    if on_sqlite:
        # Found by the index, then confirmed on the row: the result cannot differ from a
        # scan's, whatever the index holds. instr() (strpos() below) takes no wildcards.
        conditions = [sa.func.instr(Registration.search_text, word) > 0 for word in words]
        if indexed:
            # Without statistics SQLite takes an event for a handful of rows, and would
            # walk them all, looking each up in the matches; likely() says most of the
            # event's rows pass, so it starts from the (few) matches instead.
            in_event = sa.func.likely(in_event, type_=sa.Boolean)
            matches = sa.select(_search_table.c.rowid).where(
                _all_columns.match(_fts_query(event_id, indexed))
            )
            conditions.insert(0, Registration.id.in_(matches))
        return sa.and_(in_event, *conditions)
    # LIKE for the words the trigram index serves; strpos() for the others, which the index
    # cannot serve: a prepared statement's generic plan could otherwise pick the index for
    # a word without trigrams, a scan of the whole index.
    return sa.and_(
        in_event,
        *(
            Registration.search_text.like(f"%{_escape_like(word)}%", escape="\\")
            if len(word) >= INDEXED_WORD_LENGTH
            else sa.func.strpos(Registration.search_text, word) > 0
            for word in words
        ),
    )


def _fts_query(event_id: int, words: Sequence[str]) -> str:
    """An FTS5 query for the event's rows containing every word, each as a quoted phrase."""
    phrases = " ".join('"' + word.replace('"', '""') + '"' for word in words)
    return f'event_key : "e{event_id}e" AND search_text : ({phrases})'


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
