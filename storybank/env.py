"""Typed readers for environment variables.

Every setting Storybank reads from the environment goes through these helpers so that a malformed
value stops start-up with a message naming the variable, instead of failing later in a request.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from storybank.redaction import redact_credentials

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} must be at most {maximum}.")
    return value


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    """One of `choices` (compared in lower case); anything else stops start-up with the list."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value not in choices:
        shown = ", ".join(repr(choice) for choice in choices)
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of {shown}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, *, schemes: tuple[str, ...]) -> str | None:
    """Return the URL in `name`, or None when unset; refuse a URL with an unexpected scheme."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
    if scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name}={redact_credentials(raw)!r} is not a URL of a supported kind (expected {', '.join(schemes)}://…)."
        )
    return raw


# WAL lets the web server read while the worker writes; IMMEDIATE avoids "database is locked"
# on read-then-write transactions; the timeout lets a writer wait for another.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}
# Each server thread keeps its database connection between requests, this many seconds at most,
# on PostgreSQL and SQLite alike: opening a SQLite one (the file, the PRAGMAs above, Django's SQL
# functions) cost the story page about a third of its requests per second (bench/pages.py).
CONN_MAX_AGE = 60


def database_config(url: str | None, var_dir: Path) -> dict:
    """Django DATABASES['default'] from DATABASE_URL; SQLite under var/ when unset."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(var_dir / "storybank.sqlite3"),
            "OPTIONS": dict(SQLITE_OPTIONS),
            "CONN_MAX_AGE": CONN_MAX_AGE,
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    except Exception as error:  # dj_database_url raises several types for bad URLs
        raise ImproperlyConfigured(
            f"DATABASE_URL={redact_credentials(url)!r} cannot be parsed: {redact_credentials(error)}"
        ) from None
    if not config.get("ENGINE"):
        raise ImproperlyConfigured(f"DATABASE_URL={redact_credentials(url)!r} names an unsupported database.")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
    return config


def secret_key(debug: bool, var_dir: Path) -> str:
    """SECRET_KEY from the environment; in development, one generated once and kept in var/."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        if not debug and len(key) < 40:
            raise ImproperlyConfigured("SECRET_KEY must be at least 40 characters when DEBUG is off.")
        return key
    if not debug:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off: set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key
