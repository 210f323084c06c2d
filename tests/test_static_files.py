"""Static files named by their content and kept for good, the modules a script imports too."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from flask import url_for

from app import create_app
from app.static_files import StaticVersions
from tests.conftest import Config, make_event

ROOT = Path(__file__).resolve().parent.parent
IMPORTED = re.compile(r"""from\s*["'](\./[^"']+)["']""")


class HashedConfig(Config):
    STATIC_URL_HASHES = True


@pytest.fixture
def hashed_client(app):
    """The app as in production, with hashed URLs; ``app`` empties the tables after."""
    hashed = create_app(HashedConfig)
    with hashed.app_context():
        yield hashed, hashed.test_client()


def test_every_module_the_checkin_page_imports_is_kept_a_year(hashed_client):
    """From main.js down, each import names a version, and that version is cached for good."""
    app, client = hashed_client
    with app.test_request_context():
        start = url_for("static", filename="js/checkin/main.js")
    assert "?v=" in start
    seen, waiting = set(), [start]
    while waiting:
        url = waiting.pop()
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        cache = response.headers["Cache-Control"]
        assert "immutable" in cache and "max-age=31536000" in cache, (url, cache)
        for specifier in IMPORTED.findall(response.get_data(as_text=True)):
            assert "?v=" in specifier, (url, specifier)
            target = "/static/js/checkin/" + specifier.removeprefix("./")
            if target not in seen:
                waiting.append(target)
    # main.js, and at least its helpers for text, the view and the storage.
    assert len(seen) >= 8


def test_a_changed_module_changes_the_url_of_every_module_importing_it(tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "main.js").write_text('import { a } from "./a.js";\n')
    (tmp_path / "js" / "a.js").write_text('import { b } from "./b.js";\nexport const a = 1;\n')
    (tmp_path / "js" / "b.js").write_text("export const b = 1;\n")
    before = StaticVersions(str(tmp_path), version_imports=True)
    old = {name: before.content_hash(f"js/{name}") for name in ("main.js", "a.js", "b.js")}
    assert f'"./b.js?v={old["b.js"]}"'.encode() in before.source("js/a.js")

    (tmp_path / "js" / "b.js").write_text("export const b = 2;\n")
    after = StaticVersions(str(tmp_path), version_imports=True)
    for name in ("main.js", "a.js", "b.js"):
        assert after.content_hash(f"js/{name}") != old[name], name


def test_a_module_loaded_when_needed_is_versioned_too(tmp_path):
    (tmp_path / "main.js").write_text('const later = () => import("./later.js");\n')
    (tmp_path / "later.js").write_text("export const c = 1;\n")
    versions = StaticVersions(str(tmp_path), version_imports=True)

    served = versions.source("main.js").decode()
    assert f'import("./later.js?v={versions.content_hash("later.js")}")' in served


ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"


@pytest.mark.skipif(not ESBUILD.exists(), reason="esbuild is not installed: run `npm ci`")
def test_the_checkin_bundle_is_built_from_the_modules_as_they_are(tmp_path):
    """static/js/checkin.bundle.js, which the page loads, is what `make bundle` makes today."""
    built = tmp_path / "bundle.js"
    done = subprocess.run(
        ["node", "tools/bundle.mjs", str(built)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    committed = ROOT / "static" / "js" / "checkin.bundle.js"
    assert committed.read_bytes() == built.read_bytes(), (
        "static/js/checkin.bundle.js is out of date: run `make bundle`"
    )


def test_an_import_cycle_is_served_without_looping(tmp_path):
    (tmp_path / "a.js").write_text('import "./b.js";\n')
    (tmp_path / "b.js").write_text('import "./a.js";\n')
    versions = StaticVersions(str(tmp_path), version_imports=True)
    assert versions.content_hash("a.js") and versions.content_hash("b.js")


def test_a_page_links_only_hashed_files(hashed_client):
    app, client = hashed_client
    make_event("seminar", {"ahal": 10})
    html = client.get("/events/seminar").get_data(as_text=True)
    linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert linked
    for url in linked:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        assert "immutable" in client.get(url).headers["Cache-Control"], url


def test_an_old_hash_is_not_kept_for_good(hashed_client):
    _app, client = hashed_client
    response = client.get("/static/js/checkin/main.js?v=000000000000")
    assert response.status_code == 200
    assert "immutable" not in response.headers.get("Cache-Control", "")
