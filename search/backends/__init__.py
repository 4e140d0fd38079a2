"""Search backends: the embedded tantivy index (default) and Elasticsearch.

settings.STORYBANK_SEARCH_BACKEND names the SearchBackend subclass in use (a dotted path); each
class builds itself from the settings, so choosing one needs no knowledge of any of them here.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from search.backends.base import SearchBackend

EMBEDDED = "search.backends.embedded.EmbeddedBackend"
ELASTICSEARCH = "search.backends.elasticsearch.ElasticsearchBackend"

_backends: dict[tuple, SearchBackend] = {}
_backends_lock = threading.Lock()


def backend_path() -> str:
    """STORYBANK_SEARCH_BACKEND; unset, Elasticsearch when ELASTICSEARCH_URL is set, else the embedded index.

    Read on each call, so a process (or a test) that changes ELASTICSEARCH_URL follows it.
    """
    return settings.STORYBANK_SEARCH_BACKEND or (ELASTICSEARCH if settings.ELASTICSEARCH_URL else EMBEDDED)


def backend_class() -> type[SearchBackend]:
    """The class `backend_path()` names."""
    path = backend_path()
    try:
        found = import_string(path)
    except ImportError as error:
        raise ImproperlyConfigured(
            f"STORYBANK_SEARCH_BACKEND={path!r} cannot be imported: {error}"
        ) from error
    if not (isinstance(found, type) and issubclass(found, SearchBackend)):
        raise ImproperlyConfigured(f"STORYBANK_SEARCH_BACKEND={path!r} is not a SearchBackend subclass.")
    return found


def get_backend() -> SearchBackend:
    """The configured backend, one instance per process (and per index location)."""
    chosen = backend_class()
    key = (chosen, *chosen.settings_key())
    with _backends_lock:
        backend = _backends.get(key)
        if backend is None:
            backend = _backends[key] = chosen.from_settings()
        return backend


def forget_backends() -> None:
    """Drop the backends this process holds (their clients and open indexes); the next call builds anew."""
    with _backends_lock:
        _backends.clear()
