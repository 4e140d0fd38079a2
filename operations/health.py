"""The checks behind /healthz: database, search backend, background worker, transcription model."""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from capture.transcribe import model_status
from operations.models import WorkerHeartbeat
from search.service import backend_health
from storybank.redaction import redact_credentials


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "down"
        return {"ok": False, "vendor": connection.vendor, "error": str(error)}
    return {"ok": True, "vendor": connection.vendor}


def check_worker() -> dict:
    try:
        age = WorkerHeartbeat.newest_age()
    except Exception as error:
        return {"ok": False, "heartbeat_age_seconds": None, "error": str(error)}
    if age is None:
        return {"ok": False, "heartbeat_age_seconds": None, "error": "no worker has ever run"}
    ok = age <= settings.WORKER_STALE_SECONDS
    result = {"ok": ok, "heartbeat_age_seconds": round(age, 1)}
    if not ok:
        result["error"] = f"last heartbeat {age:.0f}s ago (limit {settings.WORKER_STALE_SECONDS}s)"
    return result


def check_search() -> dict:
    try:
        return backend_health()
    except Exception as error:
        return {"ok": False, "error": str(error)}


def check_transcription_model() -> dict:
    try:
        return model_status()
    except Exception as error:
        return {"ok": False, "error": str(error)}


def system_health() -> tuple[bool, dict]:
    """Every check in full (versions, ages, errors), credentials masked: for staff and operators."""
    checks = {
        "database": check_database(),
        "search": check_search(),
        "worker": check_worker(),
        "transcription_model": check_transcription_model(),
    }
    for check in checks.values():
        for key, value in check.items():
            if isinstance(value, str):
                check[key] = redact_credentials(value)
    healthy = all(check["ok"] for check in checks.values())
    return healthy, {"status": "ok" if healthy else "unhealthy", "checks": checks}


def public_health(report: dict) -> dict:
    """What anyone may know: the overall status and whether each part is up, nothing else."""
    return {
        "status": report["status"],
        "checks": {name: {"ok": bool(check["ok"])} for name, check in report["checks"].items()},
    }
