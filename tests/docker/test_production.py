"""Production settings, run for real: DEBUG off, gunicorn started the way the image starts it.

Each flavour migrates its own throwaway database (a SQLite file, or a PostgreSQL database created
for the test when DATABASE_URL points at PostgreSQL), publishes a story through Django, starts
gunicorn with the Dockerfile's command, and reads the site over HTTP as a proxy would.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.docker.compose_files import (
    ROOT,
    compose,
    dockerfile_stages,
    effective,
    exec_form,
    healthcheck_python,
    image_env,
    stage_chain,
)
from tests.docker.envscan import variables_read_by_code
from tests.processes import free_port

STORY_TITLE = "The invoice question that took an hour, not a week"
PUBLISH_STORY = f"""
from stories.models import StoryIndexPage, StoryPage
library = StoryIndexPage.objects.get()
story = StoryPage(
    title={STORY_TITLE!r},
    context="Supplier questions waited days in a shared inbox.",
    aha="Asking on the internal network reached the one person who knew.",
    outcome="Supplier questions are now answered the same day.",
    consent=True,
    live=False,
)
library.add_child(instance=story)
story.save_revision().publish()
story.refresh_from_db()
print(story.get_url_parts()[2])
"""


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.split("://", 1)[0] in {"postgres", "postgresql", "pgsql"} else None


def base_environment(tmp_path: Path) -> dict[str, str]:
    """The process environment without Storybank's own variables, plus production values."""
    configuration = set(variables_read_by_code()) - {"DJANGO_SETTINGS_MODULE"}
    configuration.add("GUNICORN_CMD_ARGS")
    environment = {key: value for key, value in os.environ.items() if key not in configuration}
    environment.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="localhost,127.0.0.1",
        CSRF_TRUSTED_ORIGINS="https://localhost",
        SITE_URL="https://localhost",
        SECURE_PROXY_SSL_HEADER="1",
        STORYBANK_VAR_DIR=str(tmp_path / "var"),
        MEDIA_ROOT=str(tmp_path / "media"),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return environment


def run_manage(environment: dict[str, str], *args: str, timeout: int = 300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


DATABASES = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                postgres_url() is None,
                reason="DATABASE_URL is not a PostgreSQL URL: the PostgreSQL pass of .ci/run runs this",
            ),
        ],
    ),
]


def build_time_collectstatic() -> tuple[dict[str, str], list[str]]:
    """The Dockerfile's collectstatic step: its inline VAR=value assignments and its command."""
    app = stage_chain(dockerfile_stages(), "runtime")[-1]
    (step,) = [argument for argument in app.all("RUN") if "collectstatic" in argument]
    words = shlex.split(step)
    assignments = {}
    while "=" in words[0] and words[0].split("=", 1)[0].isupper():
        key, _, value = words.pop(0).partition("=")
        assignments[key] = value
    return assignments, words


@pytest.fixture(scope="module")
def static_root(tmp_path_factory) -> Path:
    """Static files collected exactly as the image build collects them, into a temporary folder."""
    tmp_path = tmp_path_factory.mktemp("static")
    assignments, command = build_time_collectstatic()
    assert command[:2] == ["python", "manage.py"]
    environment = base_environment(tmp_path)
    for key in ("SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SITE_URL"):
        environment.pop(key)
    environment.update(image_env(dockerfile_stages(), "runtime"))
    environment.update(assignments)
    environment.update(
        PATH=os.environ["PATH"],
        STATIC_ROOT=str(tmp_path / "staticfiles"),
        MEDIA_ROOT=str(tmp_path / "media"),
        STORYBANK_VAR_DIR=str(tmp_path / "var"),
        HF_HOME=str(tmp_path / "models"),
    )
    run_manage(environment, *command[2:], timeout=600)
    return tmp_path / "staticfiles"


@dataclass
class Site:
    port: int
    environment: dict[str, str]
    story_path: str
    vendor: str
    log: Path
    worker: subprocess.Popen
    worker_log: Path

    def get(self, path: str, *, host: str = "localhost", https: bool = True) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": host}
        if https:
            headers["X-Forwarded-Proto"] = "https"
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        return response


def wait_for_port(process: subprocess.Popen, port: int, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"gunicorn did not listen on {port} within {seconds}s:\n{log.read_text()}")


@pytest.fixture(scope="module", params=DATABASES)
def throwaway_database(request, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(DATABASE_URL, vendor) of a database made for these tests and removed after them."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'production.sqlite3'}", "sqlite"
        return
    import dj_database_url
    import psycopg

    url = postgres_url()
    server = dj_database_url.parse(url)
    connect = {
        key: value
        for key, value in {
            "user": server.get("USER"),
            "password": server.get("PASSWORD"),
            "host": server.get("HOST"),
            "port": server.get("PORT"),
        }.items()
        if value
    }
    name = f"storybank_prod_{secrets.token_hex(4)}"
    with psycopg.connect(dbname="postgres", autocommit=True, **connect) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    head, separator, query = url.partition("?")
    try:
        yield f"{head.rsplit('/', 1)[0]}/{name}{separator}{query}", "postgresql"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **connect) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start(command: list[str], environment: dict[str, str], log: Path) -> subprocess.Popen:
    """Start an image command here: `gunicorn …` and `python …` run with this interpreter."""
    if command[0] == "gunicorn":
        command = [sys.executable, "-m", "gunicorn", *command[1:]]
    elif command[0] in {"python", "python3"}:
        command = [sys.executable, *command[1:]]
    with log.open("w") as log_file:
        return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log_file, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen, seconds: float = 30) -> int:
    """SIGTERM, as `docker stop` sends it; the exit code, or -9 when it had to be killed."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return -9
    return process.returncode


@pytest.fixture(scope="module")
def production_site(throwaway_database, static_root, tmp_path_factory) -> Iterator[Site]:
    """gunicorn and a worker, started with the image's commands, on a migrated database with a story."""
    database_url, vendor = throwaway_database
    tmp_path = tmp_path_factory.mktemp("site")
    environment = base_environment(tmp_path)
    environment.update(DATABASE_URL=database_url, STATIC_ROOT=str(static_root))
    run_manage(environment, "migrate", "--noinput")
    story_path = run_manage(environment, "shell", "-c", PUBLISH_STORY).strip().splitlines()[-1]

    port = free_port()
    environment.update(PORT=str(port), WEB_CONCURRENCY="1")
    web_command = exec_form(effective(dockerfile_stages(), "runtime", "CMD"))
    assert web_command[0] == "gunicorn"
    log = tmp_path / "gunicorn.log"
    web = start(web_command, environment, log)
    worker_log = tmp_path / "worker.log"
    worker = start(compose()["services"]["worker"]["command"], environment, worker_log)
    try:
        wait_for_port(web, port, log)
        yield Site(
            port=port,
            environment=environment,
            story_path=story_path,
            vendor=vendor,
            log=log,
            worker=worker,
            worker_log=worker_log,
        )
    finally:
        stop(worker)
        stop(web)


@pytest.mark.slow
def test_gunicorn_serves_a_published_story_with_production_settings(production_site, static_root):
    site = production_site
    page = site.get(site.story_path)
    assert page.status == 200, site.log.read_text()
    html = page.body.decode()
    assert STORY_TITLE in html
    # Security headers a browser sees on an HTTPS page.
    assert page.getheader("Strict-Transport-Security").startswith("max-age=31536000")
    assert page.getheader("X-Frame-Options") == "DENY"
    assert page.getheader("X-Content-Type-Options") == "nosniff"

    # The page links the hashed stylesheet from the manifest, and whitenoise serves it for ever.
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    stylesheet = "/static/" + manifest["storybank/css/storybank.css"]
    assert f'href="{stylesheet}"' in html
    asset = site.get(stylesheet)
    assert asset.status == 200
    assert asset.getheader("Content-Type").startswith("text/css")
    assert "immutable" in asset.getheader("Cache-Control")
    assert asset.body == (static_root / manifest["storybank/css/storybank.css"]).read_bytes()


@pytest.mark.slow
def test_health_endpoint_and_the_image_health_check_see_the_database(production_site):
    site = production_site
    # Plain HTTP from inside the network, as the container health check and load balancers ask.
    health = site.get("/healthz", https=False)
    assert health.status in {200, 503}
    assert health.getheader("Content-Type") == "application/json"
    report = json.loads(health.body)
    assert report["checks"]["database"] == {"ok": True}  # details are for staff only
    assert "worker" in report["checks"] and "search" in report["checks"]

    source = healthcheck_python(dockerfile_stages(), "runtime")
    check = subprocess.run(
        [sys.executable, "-c", source], env=site.environment, capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow
def test_production_refuses_plain_http_unknown_hosts_and_hides_internals(production_site):
    site = production_site
    plain = site.get(site.story_path, https=False)
    assert plain.status == 301
    assert plain.getheader("Location") == f"https://localhost{site.story_path}"

    assert site.get(site.story_path, host="attacker.example").status == 400

    missing = site.get("/no-such-page-here/")
    assert missing.status == 404
    assert b"Traceback" not in missing.body and b"URLconf" not in missing.body

    login = site.get("/accounts/login/")
    assert login.status == 200
    cookies = login.getheader("Set-Cookie") or ""
    assert "csrftoken=" in cookies and "Secure" in cookies


@pytest.mark.slow
def test_with_the_worker_running_the_site_reports_healthy_and_finds_the_story(production_site):
    site = production_site
    deadline = time.monotonic() + 90
    while True:
        health = site.get("/healthz", https=False)
        if health.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    report = json.loads(health.body)
    assert health.status == 200, f"{report}\n--- worker log ---\n{site.worker_log.read_text()}"
    assert report["status"] == "ok"
    assert report["checks"]["worker"]["ok"] is True
    assert report["checks"]["transcription_model"]["ok"] is True

    # The worker applied the index update queued when the story was published.
    link = f'href="{site.story_path}"'.encode()
    deadline = time.monotonic() + 60
    while True:
        results = site.get("/search/?q=invoice")
        if link in results.body or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert results.status == 200
    assert link in results.body, site.worker_log.read_text()


@pytest.mark.slow
def test_the_worker_stops_cleanly_when_the_container_is_stopped(production_site):
    site = production_site
    deadline = time.monotonic() + 90
    while "started (pid" not in site.worker_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert site.worker.poll() is None, site.worker_log.read_text()
    assert "started (pid" in site.worker_log.read_text()
    assert stop(site.worker, seconds=60) == 0, site.worker_log.read_text()


def test_deploy_checks_pass_with_production_settings(tmp_path):
    environment = base_environment(tmp_path)
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'check.sqlite3'}"
    output = run_manage(environment, "check", "--deploy", "--fail-level", "WARNING")
    assert "System check identified no issues" in output


def test_deploy_checks_catch_an_insecure_production_setting(tmp_path):
    """The check above can fail: turning HTTPS redirects off is reported."""
    environment = base_environment(tmp_path)
    environment.update(SECURE_SSL_REDIRECT="0", DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


def test_hashed_scripts_import_the_hashed_shared_combobox(static_root):
    """A cached old module can never meet a new importer: imports name the hashed files too."""
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    shared = "../../" + manifest["stories/js/combobox.js"]
    assert manifest["stories/js/combobox.js"] != "stories/js/combobox.js"
    for importer in ("search/js/search.js", "capture/js/people-autocomplete.js"):
        assert f'from "{shared}"' in (static_root / manifest[importer]).read_text()
