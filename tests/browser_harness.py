"""The one way the suite drives a browser: Debian's Chromium through Playwright.

Most browser tests talk to a live Storybank (`live_storybank`): the real thing `make run` starts —
gunicorn and the task worker, as subprocesses — on a throwaway SQLite database, media folder and
search index, with the demo content loaded. They reach it only through the browser and `manage.py`
subprocesses. Tests that need their own Chromium (a fake microphone, Django's live server) start one
with `launch_chromium` or `chromium_browser`, so every browser runs with the same flags.

tests/conftest.py registers this module as a plugin: its fixtures are available in every folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
AXE_JS = ROOT / "tests" / "browser" / "vendor" / "axe.min.js"
ADMIN = ("editor-e2e", "editor password for e2e")
STAFF = ("staff-e2e", "staff password for e2e")

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# Sessions signed in once per test run: (base_url, username) -> Playwright storage state.
_signed_in: dict[tuple[str, str], dict] = {}


def chromium_installed() -> bool:
    return Path(CHROMIUM).exists()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so `open_page` knows to save failure files."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@dataclass
class LiveStorybank:
    """A running Storybank (web + worker) and the means to inspect it."""

    base_url: str
    env: dict
    directory: Path
    smtp_port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path = field(default=None)

    def manage(self, *args: str, timeout: int = 300) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def query(self, code: str) -> object:
        """Run Python in the live system's Django and return the JSON it prints last."""
        output = self.manage("shell", "-c", code)
        return json.loads(output.strip().splitlines()[-1])


def _wait_healthy(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Storybank exited early:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except Exception as error:  # not up yet
            last = str(error)
        time.sleep(0.5)
    raise RuntimeError(f"Storybank did not become healthy: {last}\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def live_storybank(tmp_path_factory) -> LiveStorybank:
    directory = tmp_path_factory.mktemp("live-storybank")
    port = free_port()
    smtp_port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ELASTICSEARCH_", "DJANGO_", "DATABASE_URL"))
    }
    # No DATABASE_URL: like `make run`, the SQLite database lives in STORYBANK_VAR_DIR with the
    # settings the web server and the worker need to share it (WAL, immediate transactions).
    env.update(
        DEBUG="1",
        PYTHONUNBUFFERED="1",
        STORYBANK_VAR_DIR=str(directory / "var"),
        MEDIA_ROOT=str(directory / "media"),
        SEARCH_INDEX_DIR=str(directory / "search-index"),
        STORYBANK_ADMIN_USER=ADMIN[0],
        STORYBANK_ADMIN_PASSWORD=ADMIN[1],
        STORYBANK_STAFF_USER=STAFF[0],
        STORYBANK_STAFF_PASSWORD=STAFF[1],
        WORKER_HEARTBEAT_SECONDS="1",
        SITE_URL=f"http://127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        # Mail in through the local listener; mail out kept as files the tests read.
        QUESTIONS_SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(directory / "sent-mail"),
    )
    live = LiveStorybank(
        base_url=f"http://127.0.0.1:{port}", env=env, directory=directory, smtp_port=smtp_port
    )
    live.manage("setup_storybank", timeout=600)
    live.log_path = directory / "server.log"
    log = live.log_path.open("w")
    live.process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_healthy(live.base_url, live.process, live.log_path)
        yield live
    finally:
        try:
            os.killpg(live.process.pid, signal.SIGTERM)
            live.process.wait(timeout=20)
        except Exception:
            os.killpg(live.process.pid, signal.SIGKILL)
        log.close()
        if ARTIFACTS.exists():
            shutil.copy(live.log_path, ARTIFACTS / "server.log")


@pytest.fixture(scope="session")
def playwright_driver():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def launch_chromium(playwright_driver, *extra_flags: str):
    """Debian's Chromium, headless, with the suite's flags plus any extra ones (fake media devices…)."""
    return playwright_driver.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, *extra_flags])


@contextmanager
def chromium_browser(*extra_flags: str):
    """A Chromium with its own Playwright driver, for a test that must make its data first.

    Playwright's event loop blocks the Django ORM while the driver runs, so tests that write to the
    test database start the browser after that, and stop it when they are done.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = launch_chromium(driver, *extra_flags)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def chromium(playwright_driver):
    browser = launch_chromium(playwright_driver)
    yield browser
    browser.close()


@pytest.fixture
def artifacts(request) -> Path:
    """This test's folder of screenshots (and failure files), emptied of any earlier run's."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name.replace("[", "-").replace("]", "")).strip("_")
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser, request, artifacts: Path, *, viewport=DESKTOP, base_url: str = "", storage_state=None):
    """A new browser context and page that records console output and, on failure, the HTML.

    `storage_state` (from `signed_in_state`) opens the page already signed in.
    """
    context = browser.new_context(viewport=viewport, base_url=base_url, storage_state=storage_state)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))

    # A test may drive several people's pages: each keeps its own failure files.
    number = getattr(request.node, "_pages_opened", 0) + 1
    request.node._pages_opened = number
    suffix = "" if number == 1 else f"-{number}"

    def finish():
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            try:
                (artifacts / f"failure{suffix}.html").write_text(page.content())
                page.screenshot(path=str(artifacts / f"failure{suffix}.png"), full_page=True)
            except Exception:
                pass
            (artifacts / f"console{suffix}.log").write_text("\n".join(console))
        context.close()

    request.addfinalizer(finish)
    page.console_messages = console
    return page


@pytest.fixture
def page(chromium, request, artifacts, live_storybank):
    return open_page(chromium, request, artifacts, base_url=live_storybank.base_url)


@pytest.fixture
def phone_page(chromium, request, artifacts, live_storybank):
    return open_page(chromium, request, artifacts, viewport=PHONE, base_url=live_storybank.base_url)


def snap(page, artifacts: Path, name: str) -> None:
    """A full-page screenshot, with lazy images loaded first so the picture shows what a reader sees."""
    page.evaluate(
        """async () => {
            const images = [...document.images];
            images.forEach((image) => { image.loading = "eager"; });
            await Promise.all(images.filter((image) => !image.complete).map((image) => new Promise((done) => {
                image.addEventListener("load", done, { once: true });
                image.addEventListener("error", done, { once: true });
                setTimeout(done, 3000);
            })));
        }"""
    )
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def sign_in(page, username: str, password: str, next_path: str = "/") -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def signed_in_state(browser, base_url: str, username: str, password: str) -> dict:
    """Cookies of a session signed in once per test run, so tests reuse a login instead of repeating it."""
    key = (base_url, username)
    if key not in _signed_in:
        context = browser.new_context(base_url=base_url)
        sign_in(context.new_page(), username, password)
        _signed_in[key] = context.storage_state()
        context.close()
    return _signed_in[key]


def axe_violations(page, *, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core in the page and return the violations at the given impact levels."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def wait_until(check, *, timeout: float = 30, interval: float = 0.5, message: str = "the condition"):
    """Poll `check` until it returns something truthy: for work the live worker finishes in the background."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {message}")
        time.sleep(interval)
