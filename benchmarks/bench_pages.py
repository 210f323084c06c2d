"""The pages on a bad link: Chromium, throttled to 400 kbps each way and 400 ms round trips.

The demo seminar is served by werkzeug on a loopback port, as in production (hashed static
URLs, compression), from a temporary SQLite file. For the check-in page: how long until it is
ready to scan (the code field focused, the list of expected people shown), cold (an empty
cache, no service worker) and warm (the same page opened again), and what it transferred,
compressed, before it was ready and once its offline copy was kept. For the event page and
the registration form: the time to the load event and the transfer, cold. Needs Chromium
(CHROMIUM_PATH, else /usr/bin/chromium) and Playwright; prints figures, asserts nothing.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

from app import create_app
from app.demo import DEMO_EVENT_SLUG, seed_demo
from app.extensions import db
from config import Config

#: 400 kbps each way, 400 ms round trip: a weak mobile link at a regional centre.
THROTTLING = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400_000 / 8,
    "uploadThroughput": 400_000 / 8,
}
#: The code field focused, the list of expected people shown, and the page's script answering
#: (before it is, a code typed goes nowhere).
READY_TO_SCAN = """() => document.activeElement && document.activeElement.id === "code-input"
  && document.querySelector("#roster li:not(.empty)") !== null
  && document.querySelector("#checkin[data-ready='1']") !== null"""


class PagesConfig(Config):
    RATELIMIT_ENABLED = False


def _app(folder: str):
    config = PagesConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder}/pages.sqlite"
    config.DEMO_LOGINS_FILE = str(Path(folder) / "demo-logins.txt")
    app = create_app(config)
    with app.app_context():
        db.create_all()
        logins = seed_demo()
        db.session.commit()
    password = next(password for email, _role, password in logins if email == "ahal@example.org")
    return app, password


class Transfer:
    """What the page's own requests brought over the wire, compressed, counted by CDP.

    CDP's events arrive behind the page, so a moment's transfer is counted afterwards, from
    the URLs the page had loaded by then (``loaded_by_now``).
    """

    def __init__(self, cdp) -> None:
        self._urls: dict[str, str] = {}
        self.finished: list[tuple[str, int]] = []
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", self._finished)

    def _sent(self, event: dict) -> None:
        self._urls[event["requestId"]] = event["request"]["url"]

    def _finished(self, event: dict) -> None:
        if event.get("encodedDataLength", 0) > 0:
            self.finished.append(
                (self._urls.get(event["requestId"], ""), event["encodedDataLength"])
            )

    def of(self, urls: set[str] | None = None) -> tuple[int, int]:
        """(bytes, requests) of all requests so far, or of the first request of each of ``urls``."""
        counted = [
            (url, size)
            for url, size in self.finished
            if urls is None or (url in urls and not urls.discard(url))
        ]
        return sum(size for _url, size in counted), len(counted)


#: The document and every file it had received, at the moment this runs.
LOADED_BY_NOW = """() => [performance.getEntriesByType("navigation")[0].name,
  ...performance.getEntriesByType("resource").map((entry) => entry.name)]"""


def _throttled(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", THROTTLING)
    return cdp


def _report(label: str, milliseconds: float, transfer: tuple[int, int] | None = None) -> None:
    line = f"{label:<44} {milliseconds / 1000:6.2f} s"
    if transfer is not None:
        size, requests = transfer
        line += f"  {size / 1024:7.1f} KB in {requests} requests"
    print(line, flush=True)


def _checkin(browser, base_url: str, password: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{base_url}/manage/login")
    page.fill("input[name=email]", "ahal@example.org")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/manage/**")
    cdp = _throttled(page)
    cdp.send("Network.clearBrowserCache")
    url = f"{base_url}/manage/events/{DEMO_EVENT_SLUG}/checkin/ahal"
    for label in ("cold", "warm"):
        transfer = Transfer(cdp)
        page.goto(url, wait_until="commit")
        page.wait_for_function(READY_TO_SCAN, polling=20, timeout=60_000)
        ready = page.evaluate("performance.now()")
        loaded = set(page.evaluate(LOADED_BY_NOW))
        page.wait_for_selector("#checkin[data-offline-ready='1']", timeout=60_000)
        page.wait_for_load_state("networkidle")
        kept = page.evaluate("performance.now()")
        _report(f"check-in page ready to scan, {label}", ready, transfer.of(loaded))
        _report(f"  with its offline copy kept, {label}", kept, transfer.of())
    context.close()


def _public(browser, base_url: str) -> None:
    for label, path in (
        ("event page, cold", f"/events/{DEMO_EVENT_SLUG}"),
        ("registration form, cold", f"/events/{DEMO_EVENT_SLUG}/register"),
    ):
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        transfer = Transfer(_throttled(page))
        page.goto(base_url + path, wait_until="load")
        loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        page.wait_for_load_state("networkidle")
        _report(label, loaded, transfer.of())
        context.close()


def main() -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("skipped: Playwright is not installed")
        return
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).exists():
        print(f"skipped: no Chromium at {chromium}")
        return
    with tempfile.TemporaryDirectory(prefix="hybriddesk-bench-") as folder:
        app, password = _app(folder)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base_url = f"http://127.0.0.1:{server.server_port}"
        print("Chromium, 400 kbps down and up, 400 ms round trip; demo seminar", flush=True)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium, args=["--headless", "--no-sandbox"]
                )
                _checkin(browser, base_url, password)
                _public(browser, base_url)
                browser.close()
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()


if __name__ == "__main__":
    main()
