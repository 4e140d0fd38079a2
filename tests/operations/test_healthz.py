"""/healthz reports each part and answers 503 when any is down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from operations.models import WorkerHeartbeat
from tests.factories import make_editor

pytestmark = pytest.mark.django_db


def test_healthy_when_a_worker_beat_recently(client):
    client.force_login(make_editor())
    WorkerHeartbeat.beat("worker-1", hostname="here", pid=1)
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["worker"]["heartbeat_age_seconds"] < 5
    assert body["checks"]["transcription_model"]["ok"] is True
    assert "backend" in body["checks"]["search"]


def test_unhealthy_when_no_worker_has_run(client):
    client.force_login(make_editor())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["error"] == "no worker has ever run"


def test_unhealthy_when_the_worker_heartbeat_is_stale(client, settings):
    WorkerHeartbeat.objects.create(worker_id="old", last_beat=timezone.now() - timedelta(minutes=5))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


def test_unhealthy_when_the_transcription_model_is_missing(client, settings, tmp_path):
    WorkerHeartbeat.beat("worker-1")
    settings.WHISPER_MODEL = str(tmp_path / "no-such-model")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["transcription_model"]["ok"] is False
