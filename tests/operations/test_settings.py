"""Settings come from the environment; bad values stop start-up with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from storybank import env

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL"}}
    clean.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("raw,expected", [("1", True), ("yes", True), ("off", False), ("0", False)])
def test_boolean_words_are_understood(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env.env_bool("SOME_FLAG", default=not expected) is expected


def test_unknown_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG='maybe' is not a boolean"):
        env.env_bool("DEBUG", True)


def test_number_below_minimum_is_refused(monkeypatch):
    monkeypatch.setenv("MAX_CLIP_SECONDS", "0")
    with pytest.raises(ImproperlyConfigured, match="MAX_CLIP_SECONDS=0 must be at least 1"):
        env.env_int("MAX_CLIP_SECONDS", 600, minimum=1)


def test_number_above_maximum_is_refused(monkeypatch):
    monkeypatch.setenv("QUESTIONS_DIGEST_HOUR", "24")
    with pytest.raises(ImproperlyConfigured, match="QUESTIONS_DIGEST_HOUR=24 must be at most 23"):
        env.env_int("QUESTIONS_DIGEST_HOUR", 8, minimum=0, maximum=23)


def test_non_number_is_refused(monkeypatch):
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(ImproperlyConfigured, match="PORT='eighty' is not a whole number"):
        env.env_int("PORT", 8000)


def test_database_url_defaults_to_sqlite_under_var(tmp_path):
    config = env.database_config(None, tmp_path)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "storybank.sqlite3")
    assert config["CONN_MAX_AGE"] == env.CONN_MAX_AGE > 0  # a server thread keeps its connection


def test_postgres_database_url_is_parsed(tmp_path):
    config = env.database_config("postgres://story:pw@db:5432/storybank", tmp_path)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["HOST"], config["PORT"], config["USER"]) == (
        "storybank",
        "db",
        5432,
        "story",
    )
    assert config["CONN_MAX_AGE"] == env.CONN_MAX_AGE


def test_database_url_with_unknown_scheme_is_refused(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mongodb://localhost/x")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL='mongodb://localhost/x' is not a URL"):
        env.env_url("DATABASE_URL", schemes=("sqlite", "postgres"))


def test_development_secret_key_is_generated_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = env.secret_key(True, tmp_path)
    assert len(first) >= 40
    assert env.secret_key(True, tmp_path) == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_start_up_without_secret_key_in_production_fails_clearly():
    result = run_manage("check", DEBUG="0", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_start_up_with_malformed_value_fails_clearly():
    result = run_manage("check", MAX_UPLOAD_MB="lots")
    assert result.returncode != 0
    assert "MAX_UPLOAD_MB='lots' is not a whole number" in result.stderr


def test_sqlite_database_url_gets_the_concurrency_options(tmp_path):
    config = env.database_config(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["CONN_MAX_AGE"] == env.CONN_MAX_AGE
