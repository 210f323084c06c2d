"""Static URLs that name their content, so that browsers and proxies may keep them for good.

``url_for('static', filename='css/app.css')`` gives ``/static/css/app.css?v=<hash>``,
the first 12 hex digits of the file's SHA-256, read once per file and process. A
release that changes a file changes its URL, so a page never gets an old copy, and a
request that names the current hash is answered with a year-long, immutable
``Cache-Control`` (nginx does the same for the files it serves itself, see
``deploy/nginx/``). Files asked for without a hash, such as the modules the check-in
page imports by relative path (``./storage.js``), keep the default: revalidated on
each use.

The hashes are on unless the app runs in debug or testing mode, where files change
under a running server and pages are compared by their exact URLs;
``STATIC_URL_HASHES`` turns them on or off explicitly.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.security import safe_join

#: Hex digits of the SHA-256 kept in the URL: enough that two versions never collide.
HASH_LENGTH = 12
#: A year, the longest lifetime caches are asked to honour.
FOREVER = 365 * 24 * 60 * 60


def content_hashes(folder: str):
    """A function giving a file's content hash under ``folder``, or None when there is none."""

    @lru_cache(maxsize=1024)
    def content_hash(filename: str) -> str | None:
        path = safe_join(folder, filename)
        if path is None or not Path(path).is_file():
            return None
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:HASH_LENGTH]

    return content_hash


def register(app: Flask) -> None:
    enabled = app.config.get("STATIC_URL_HASHES")
    if enabled is None:
        enabled = not (app.debug or app.testing)
    if not enabled or not app.static_folder:
        return
    content_hash = content_hashes(app.static_folder)

    @app.url_defaults
    def add_content_hash(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            digest = content_hash(values.get("filename", ""))
            if digest:
                values["v"] = digest

    @app.after_request
    def keep_hashed_files_forever(response: Response) -> Response:
        # Only the current hash: an old page's URL must not pin today's file for a year.
        if (
            request.endpoint == "static"
            and response.status_code in (200, 304)
            and request.args.get("v") == content_hash(request.view_args.get("filename", ""))
        ):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = FOREVER
            response.cache_control.immutable = True
        return response
