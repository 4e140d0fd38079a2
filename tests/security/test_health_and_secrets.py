"""/healthz tells the public only up or down; credentials never appear in a page, a log or an error."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from operations.models import WorkerHeartbeat
from search.backends import forget_backends
from storybank.env import database_config, env_url
from storybank.redaction import RedactingFormatter, redact_credentials
from tests.factories import UserFactory, make_editor

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-Pa55"
ES_URL = f"http://elastic:{PASSWORD}@127.0.0.1:9"  # nothing listens on port 9: the check fails


@pytest.fixture
def unreachable_elasticsearch(settings):
    settings.ELASTICSEARCH_URL = ES_URL
    yield
    forget_backends()  # its client holds the unreachable URL


def test_public_health_says_only_ok_or_failed_per_part(client, unreachable_elasticsearch):
    WorkerHeartbeat.beat("worker-1")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["search"] == {"ok": False}
    assert all(set(check) == {"ok"} for check in body["checks"].values())
    assert PASSWORD not in response.content.decode()


def test_a_signed_in_storyteller_gets_the_public_answer_too(client):
    client.force_login(UserFactory())
    checks = client.get("/healthz").json()["checks"]
    assert all(set(check) == {"ok"} for check in checks.values())


def test_staff_see_the_details_with_credentials_masked(client, unreachable_elasticsearch):
    client.force_login(make_editor())
    response = client.get("/healthz")
    search = response.json()["checks"]["search"]
    assert search["ok"] is False and search["error"]
    assert PASSWORD not in response.content.decode()
    assert search["error"] == "no answer from http://***@127.0.0.1:9"


def test_log_lines_and_tracebacks_never_carry_url_credentials():
    formatter = RedactingFormatter("%(message)s")
    try:
        raise ConnectionError(f"no answer from {ES_URL}")
    except ConnectionError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed: %s", (ES_URL,), exc_info=True)
        import sys

        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert PASSWORD not in text
    assert "http://***@127.0.0.1:9" in text


def test_configuration_errors_do_not_repeat_the_password(monkeypatch):
    monkeypatch.setenv("ELASTICSEARCH_URL", f"ftp://elastic:{PASSWORD}@host")
    with pytest.raises(ImproperlyConfigured) as error:
        env_url("ELASTICSEARCH_URL", schemes=("http", "https"))
    assert PASSWORD not in str(error.value)
    with pytest.raises(ImproperlyConfigured) as error:
        database_config(f"nosuchdb://app:{PASSWORD}@db/x", None)
    assert PASSWORD not in str(error.value)


@pytest.mark.parametrize(
    "text",
    [
        f"postgres://app:{PASSWORD}@db:5432/x",
        f"https://{PASSWORD}@example.org/",
        f"imaps://u%40x:{PASSWORD}@mail",
    ],
)
def test_every_url_form_is_masked(text):
    assert PASSWORD not in redact_credentials(text)


def test_the_staff_flag_alone_does_not_open_the_health_details(client):
    client.force_login(UserFactory(is_staff=True, groups=["Storytellers"]))
    checks = client.get("/healthz").json()["checks"]
    assert all(set(check) == {"ok"} for check in checks.values())


def test_search_index_status_masks_the_password(unreachable_elasticsearch):
    import io

    from django.core.management import CommandError, call_command

    out = io.StringIO()
    try:
        call_command("search_index", "status", stdout=out, stderr=out)
    except CommandError as error:
        out.write(str(error))
    assert PASSWORD not in out.getvalue()
