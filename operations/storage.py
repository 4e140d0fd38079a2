"""Where uploads are stored: under random names, so no file can be found by guessing its address.

Every upload and every generated file (clips, pictures, renditions, poster frames, documents)
goes through `generate_filename`, whoever saves it; the folder and a safe extension are kept, the
uploader's name, timestamps and sequence numbers are not. Original names stay in the database
(`Clip.original_name`, an image's or document's title).
"""

from __future__ import annotations

import re
import secrets
from pathlib import PurePosixPath

from django.core.files.storage import FileSystemStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

SAFE_EXTENSION = re.compile(r"^\.[a-z0-9]{1,8}$")


def random_file_name(name: str) -> str:
    """`folder/<random>.<ext>` for `name`: 128 random bits, the extension lower-cased if it is plain."""
    path = PurePosixPath(name.replace("\\", "/"))
    extension = path.suffix.lower()
    stem = secrets.token_urlsafe(16).replace("-", "x").replace("_", "y")
    folder = path.parent.as_posix()
    new_name = stem + (extension if SAFE_EXTENSION.match(extension) else "")
    return new_name if folder in ("", ".") else f"{folder}/{new_name}"


class RandomNameStorage(FileSystemStorage):
    """The file system storage, naming every new file with `random_file_name`."""

    def generate_filename(self, filename: str) -> str:
        return super().generate_filename(random_file_name(filename))


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files whose JS `import … from "…"` paths point at hashed names too.

    Without it an importer's hashed file would import a module by its unhashed (short-cached) name,
    and for a minute after a deploy an old module could meet a new importer.
    """

    support_js_module_import_aggregation = True
