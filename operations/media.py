"""Serving uploads with HTTP Range support, so audio and video players can seek."""

from __future__ import annotations

import mimetypes
import os
import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.utils._os import safe_join

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


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


def clip_is_readable(user, path: str) -> bool:
    """Clips follow their story's visibility: anonymous readers get only those of live public stories."""
    if not path.startswith("clips/") or user.is_authenticated:
        return True
    from stories.models import StoryPage

    return StoryPage.objects.visible_to(user).filter(clip__file=path).exists()


def serve_upload(request, path: str):
    """Serve a file under MEDIA_ROOT; honour a single byte range (206) for media seeking."""
    if not clip_is_readable(request.user, path):
        raise Http404("Not found")
    try:
        full = Path(safe_join(str(settings.MEDIA_ROOT), path))
    except Exception:
        raise Http404("Not found") from None
    if not full.is_file():
        raise Http404("Not found")
    size = full.stat().st_size
    content_type = mimetypes.guess_type(full.name)[0] or "application/octet-stream"
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
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    if os.path.splitext(full.name)[1].lower() in {".html", ".htm", ".svg", ".xml"}:
        response["Content-Disposition"] = "attachment"
    return response
