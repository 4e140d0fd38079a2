"""The search service: the one entry point pages, API and commands use to reach a backend."""


def backend_health() -> dict:
    return {"ok": True, "backend": "embedded"}
