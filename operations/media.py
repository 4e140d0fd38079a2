"""Serving uploads: the visibility policy decides, on the normalised path, before any byte is read.

In development Django streams the file itself (with HTTP Range support, so players can seek). In
production set PROTECTED_MEDIA_SERVER so the front server sends the file once Storybank has
said yes (nginx `X-Accel-Redirect` to an `internal` location, or Apache's `X-Sendfile`).
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse

from stories.access import user_may_read_media

RANGE_RE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$", re.ASCII)
CHUNK = 64 * 1024
# Served as downloads, never rendered inline: a browser would run their scripts on our origin.
DOWNLOAD_ONLY_EXTENSIONS = {".html", ".htm", ".svg", ".xml", ".xhtml", ".js", ".pdf"}


def _read_range(path: Path, start: int, length: int):
    with path.open("rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            data = handle.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data


def resolve_upload(raw_path: str) -> tuple[Path, str] | None:
    """The real file a request path names and its canonical path under MEDIA_ROOT, or None.

    Every spelling (`./`, `%2e`, `//`, `..`, symlinks) is resolved first, so the decision is
    taken on the file that would actually be sent.
    """
    if "\x00" in raw_path or "\\" in raw_path:
        return None
    root = Path(settings.MEDIA_ROOT).resolve()
    try:
        full = (root / raw_path.lstrip("/")).resolve(strict=True)
        relative = full.relative_to(root)
    except (OSError, ValueError, RuntimeError):
        return None
    if not full.is_file():
        return None
    return full, PurePosixPath(relative).as_posix()


def serve_upload(request, path: str):
    """Serve a file under MEDIA_ROOT to a reader who may see it; honour a single byte range (206)."""
    resolved = resolve_upload(path)
    if resolved is None or not user_may_read_media(request.user, resolved[1]):
        raise Http404("Not found")
    full, relative = resolved
    content_type = mimetypes.guess_type(full.name)[0] or "application/octet-stream"
    if settings.PROTECTED_MEDIA_SERVER:
        response = HttpResponse(content_type=content_type)
        if settings.PROTECTED_MEDIA_SERVER == "nginx":
            response["X-Accel-Redirect"] = settings.PROTECTED_MEDIA_NGINX_PREFIX + quote(relative)
        else:
            response["X-Sendfile"] = str(full)
    else:
        response = _file_response(request, full, content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Vary"] = "Cookie"
    if full.suffix.lower() in DOWNLOAD_ONLY_EXTENSIONS:
        response["Content-Disposition"] = "attachment"
    return response


def _file_response(request, full: Path, content_type: str) -> HttpResponse:
    size = full.stat().st_size
    match = RANGE_RE.match(request.headers.get("Range", "").strip())
    if match and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:
            start, end = max(size - int(last), 0), size - 1
        if start >= size or start > end:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        response = StreamingHttpResponse(
            _read_range(full, start, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(full.open("rb"), content_type=content_type)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    return response
