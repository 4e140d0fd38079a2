"""Checking an uploaded picture with Pillow before it becomes a Wagtail image.

The file's content decides what it is, never its name. Sizes are checked before any pixels are
decoded, so an oversized file or a decompression bomb is refused with a message, not a crash.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

# Pillow format name -> the extension the stored file gets.
ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
ACCEPTED_FORMATS_IN_WORDS = "a JPEG, PNG, WebP or GIF image"


@dataclass(frozen=True)
class CheckedImage:
    """What Pillow found in an upload that passed every check."""

    format: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ACCEPTED_FORMATS[self.format]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def check_image_upload(upload: UploadedFile) -> CheckedImage:
    """Validate an uploaded image by content, size and pixel count; raise ValidationError if unfit."""
    max_bytes = settings.MAX_IMAGE_MB * 1024 * 1024
    if upload.size > max_bytes:
        raise ValidationError(
            f"This image is {_megabytes(upload.size)} MB; the limit is {settings.MAX_IMAGE_MB} MB. "
            "Please choose a smaller image.",
            code="image_too_large",
        )
    if upload.size == 0:
        raise ValidationError("This file is empty. Please choose an image.", code="image_empty")

    max_pixels = settings.MAX_IMAGE_PIXELS
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it; our limit is checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(upload, formats=list(ACCEPTED_FORMATS)) as image:
                width, height = image.size
                image_format = image.format
                if width * height > max_pixels:
                    raise _too_many_pixels(width, height, max_pixels)
                image.verify()
        # verify() leaves the image unusable; decode it once for real to catch damaged data.
        upload.seek(0)
        with Image.open(upload, formats=list(ACCEPTED_FORMATS)) as image:
            image.load()
    except Image.DecompressionBombError:
        raise ValidationError(
            "This image unpacks to far more pixels than its file size suggests (a “decompression "
            "bomb”), so it was refused. Please choose an ordinary photo or screenshot.",
            code="image_bomb",
        )
    except UnidentifiedImageError:
        raise ValidationError(
            f"This file is not {ACCEPTED_FORMATS_IN_WORDS}, whatever its name says. "
            "Please choose a photo or picture in one of those formats.",
            code="image_wrong_type",
        )
    except ValidationError:
        raise
    except (OSError, SyntaxError, ValueError):
        raise ValidationError(
            "This image could not be read; the file may be damaged or incomplete. Please try another.",
            code="image_unreadable",
        )
    finally:
        upload.seek(0)
    return CheckedImage(format=image_format, width=width, height=height)


def _too_many_pixels(width: int, height: int, max_pixels: int) -> ValidationError:
    megapixels = width * height / 1_000_000
    return ValidationError(
        f"This image is {width:,} × {height:,} pixels ({megapixels:,.0f} megapixels); the limit is "
        f"{max_pixels / 1_000_000:,.0f} megapixels. Images this large can overwhelm the server "
        "(a “decompression bomb”), so it was refused. Please resize it and try again.",
        code="image_bomb",
    )


def save_as_wagtail_image(
    upload: UploadedFile, checked: CheckedImage, *, title: str, description: str = "", user=None
):
    """Store a checked upload as a Wagtail image, named with the extension its content deserves."""
    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    stem = Path(upload.name or "image").stem[:80] or "image"
    upload.seek(0)
    image = get_image_model()(
        title=title[:255],
        description=description[:255],
        file=ImageFile(upload, name=f"{stem}.{checked.extension}"),
        uploaded_by_user=user,
    )
    image._set_image_file_metadata()
    image.save()
    return image
