"""`make run` on another port: the demo answers there, and so do the links in its emails.

This runs the real Makefile target (migrations, the demo, the dev server and the mail
worker) against a database, an outbox and a logins file of its own, never the
developer's under instance/.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from email import message_from_bytes, policy
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests.conftest import csrf_token_from

REPO = Path(__file__).resolve().parent.parent
EVENT = "/events/human-rights-seminar"
#: What the machine running the tests may have set, and `make run` must not see.
FOREIGN = ("PUBLIC_BASE_URL", "HOST", "PORT", "FLASK_CONFIG", "FLASK_DEBUG", "SMTP_HOST")
URL = re.compile(r"https?://[^\s\"'<>]+")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make on PATH")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, what: str, seconds: float, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"{what} within {seconds:.0f} s; make run said:\n{log.read_text()[-3000:]}")


@pytest.fixture
def make_run(tmp_path):
    """`make run PORT=<a free port>` in its own process group; yields its URL, outbox and log."""
    port = free_port()
    outbox = tmp_path / "outbox"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in FOREIGN
        and not key.startswith(("MAKE", "MFLAGS", "FLASK_RUN_", "DEMO_", "TEST_DATABASE"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite'}",
        MAIL_FILE_DIR=str(outbox),
        DEMO_LOGINS_FILE=str(tmp_path / "demo-logins.txt"),
        WORKER_POLL_SECONDS="0.2",
    )
    log = tmp_path / "make-run.log"
    with log.open("wb") as output:
        # -o: never reinstall the virtual environment, even if pyproject.toml is newer.
        process = subprocess.Popen(
            ["make", "--no-print-directory", "-o", ".venv/.installed", "run", f"PORT={port}"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def answers():
            if process.poll() is not None:
                pytest.fail(f"make run stopped ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}{EVENT}", timeout=2) as page:  # noqa: S310
                    return page.status == 200
            except OSError:
                return False

        # Migrating, seeding, then the server and worker: each a flask start. Allow a busy machine.
        wait_for(answers, f"nothing answered on {base}", 60, log)
        yield base, outbox, log
    finally:
        stop_process_group(process)


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop make, the dev server and the worker: politely, then for sure."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    finally:
        deadline = time.monotonic() + 5
        with contextlib.suppress(ProcessLookupError):
            while time.monotonic() < deadline:
                os.killpg(process.pid, 0)  # raises once every process of the group is gone
                time.sleep(0.1)
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def register_through_the_form(base: str) -> str:
    """Register one in-person participant the way a browser does; returns the final URL."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with browser.open(f"{base}{EVENT}/register", timeout=10) as form:
        token = csrf_token_from(form.read().decode())
    data = {
        "csrf_token": token,
        "participation": "ashgabat",
        "name": "Maýsa Berdiýewa",
        "email": "maysa.berdiyewa@example.org",
        "organization": "Institute of State, Law and Democracy",
        "org_kind": "state",
        "language": "en",
        "consent": "y",
    }
    body = urllib.parse.urlencode(data).encode()
    with browser.open(f"{base}{EVENT}/register", data=body, timeout=10) as answer:
        return answer.url


def text_of(part) -> str:
    """A text part's content; a calendar's folded lines joined again, so no link is cut."""
    content = part.get_content()
    if part.get_content_type() == "text/calendar":
        content = re.sub(r"\r?\n[ \t]", "", content)
    return content


def test_make_run_on_another_port_puts_that_port_in_every_link(make_run):
    base, outbox, log = make_run
    assert register_through_the_form(base).endswith(f"{EVENT}/register/thanks")

    def confirmation():
        for path in outbox.glob("*-confirmation.eml"):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            if any(part.defects for part in message.walk()):
                continue  # still being written
            parts = [
                text_of(part) for part in message.walk() if part.get_content_maintype() == "text"
            ]
            if message["To"] == "maysa.berdiyewa@example.org" and parts:
                return parts
        return None

    parts = wait_for(confirmation, "the worker wrote no confirmation", 30, log)
    links = [link for part in parts for link in URL.findall(part)]
    ours = [link for link in links if urllib.parse.urlsplit(link).hostname == "127.0.0.1"]
    assert any(link.startswith(f"{base}/r/") for link in ours), links
    assert all(link.startswith(f"{base}/") for link in ours), ours
    assert not any(":5000" in part for part in parts)
    # What make run told the developer.
    printed = log.read_text()
    assert f"Serving the demo on {base}{EVENT}" in printed
    assert f"Links in emails, invites and badges start with {base}/" in printed
