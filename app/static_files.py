"""Static URLs that name their content, so that browsers and proxies may keep them for good.

``url_for('static', filename='css/app.css')`` gives ``/static/css/app.css?v=<hash>``,
the first 12 hex digits of the file's SHA-256, read once per file and process. A
release that changes a file changes its URL, so a page never gets an old copy, and a
request that names the current hash is answered with a year-long, immutable
``Cache-Control`` (nginx does the same for the files it serves itself, see
``deploy/nginx/``).

An ES module names the modules it imports by relative path (``from "./storage.js"``,
``import("./queue-file.js")``),
where no ``url_for`` reaches. So a module is served with those paths versioned too
(``"./storage.js?v=<hash>"``), and its own hash is taken over what is served: a change
in ``storage.js`` changes the URL of every module that imports it, up to the page's
``main.js``, and a page seen before loads its modules from the browser's cache without
asking the server about any of them. Files asked for without a hash keep the default:
revalidated on each use.

The hashes are on unless the app runs in debug or testing mode, where files change
under a running server and pages are compared by their exact URLs;
``STATIC_URL_HASHES`` turns them on or off explicitly. Either way, text files are sent
whole rather than streamed, so that the app's compression (app/__init__.py) applies.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Callable
from contextlib import closing
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, request
from werkzeug.security import safe_join

#: Hex digits of the SHA-256 kept in the URL: enough that two versions never collide.
HASH_LENGTH = 12
#: A year, the longest lifetime caches are asked to honour.
FOREVER = 365 * 24 * 60 * 60
#: An import of a module by relative path: ``from "./x.js"``, ``import "../x.js"``, or the
#: dynamic ``import("./x.js")`` of a module loaded when first needed.
MODULE_IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.\.?/[^"'?#\s]+\.js)\2""")
#: Served whole, so that they can be compressed; anything else (fonts, images) is streamed.
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


class StaticVersions:
    """The bytes the app serves for each static file, and their content hashes.

    Both are read once per file and process. With ``version_imports``, a JavaScript
    module's relative imports carry the hash of the module they name.
    """

    def __init__(self, folder: str, version_imports: bool) -> None:
        self.folder = folder
        self.version_imports = version_imports
        self._resolving: set[str] = set()
        self.source: Callable[[str], bytes | None] = lru_cache(maxsize=256)(self._source)
        self.content_hash: Callable[[str], str | None] = lru_cache(maxsize=1024)(self._hash)

    def _path(self, filename: str) -> Path | None:
        path = safe_join(self.folder, filename)
        if path is None or not Path(path).is_file():
            return None
        return Path(path)

    def _source(self, filename: str) -> bytes | None:
        """A module's text with its relative imports versioned; None for other files."""
        path = self._path(filename)
        if path is None or not filename.endswith(".js") or not self.version_imports:
            return None
        directory = posixpath.dirname(filename)

        def versioned(match: re.Match) -> str:
            prefix, quote, specifier = match.groups()
            target = posixpath.normpath(posixpath.join(directory, specifier))
            digest = None if target in self._resolving else self.content_hash(target)
            if digest is None:  # missing, or an import cycle: left as written
                return match.group(0)
            return f"{prefix}{quote}{specifier}?v={digest}{quote}"

        self._resolving.add(filename)
        try:
            return MODULE_IMPORT.sub(versioned, path.read_text(encoding="utf-8")).encode()
        finally:
            self._resolving.discard(filename)

    def _hash(self, filename: str) -> str | None:
        served = self.source(filename)
        if served is None:
            path = self._path(filename)
            if path is None:
                return None
            served = path.read_bytes()
        return hashlib.sha256(served).hexdigest()[:HASH_LENGTH]


def register(app: Flask) -> None:
    if not app.static_folder:
        return
    enabled = app.config.get("STATIC_URL_HASHES")
    if enabled is None:
        enabled = not (app.debug or app.testing)
    versions = StaticVersions(app.static_folder, version_imports=enabled)
    send_static_file = app.view_functions["static"]

    def static(filename: str) -> Response:
        """A static file; a module with its imports versioned, a text file in one piece."""
        source = versions.source(filename)
        if source is not None:
            response = Response(source, mimetype="text/javascript")
            response.set_etag(versions.content_hash(filename) or "")
            response.cache_control.no_cache = True  # as send_file does, unless hashed below
            return response.make_conditional(request)
        response = send_static_file(filename=filename)
        if response.mimetype.startswith(TEXT_TYPES) and response.status_code == 200:
            with closing(response.response):
                response.set_data(b"".join(response.response))
        return response

    app.view_functions["static"] = static
    if not enabled:
        return

    @app.url_defaults
    def add_content_hash(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            digest = versions.content_hash(values.get("filename", ""))
            if digest:
                values["v"] = digest

    @app.after_request
    def keep_hashed_files_forever(response: Response) -> Response:
        # Only the current hash: an old page's URL must not pin today's file for a year.
        if (
            request.endpoint == "static"
            and response.status_code in (200, 304)
            and request.args.get("v")
            == versions.content_hash(request.view_args.get("filename", ""))
        ):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = FOREVER
            response.cache_control.immutable = True
        return response
