"""Pictures on the share form: Wagtail's image field checks them, in our words, and stores them.

Wagtail's `WagtailImageField` refuses what is not an image, a file over
WAGTAILIMAGES_MAX_UPLOAD_SIZE, and one whose pixels (every frame counted) pass
WAGTAILIMAGES_MAX_IMAGE_PIXELS or Pillow's own limit; settings.py sets both from MAX_IMAGE_MB and
MAX_IMAGE_PIXELS. Its messages are replaced by ours. What it does not do, added here:

- The content decides the format, never the name: Wagtail refuses a PNG named .jpg; here JPEG,
  PNG, WebP and GIF are taken by content and stored with the extension the content deserves.
- The pixel count is read from the header before any pixel is decoded (Wagtail decodes the whole
  image to count them), and the file's structure is verified, so a decompression bomb or a damaged
  file is refused with a message, not a crash.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.images import ImageFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError
from wagtail.images import get_image_model
from wagtail.images.fields import WagtailImageField

# Willow's format name -> Pillow's, for the formats the share form takes.
PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}
# Willow's format name -> the extension the stored file gets.
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "gif": "gif"}
ACCEPTED_FORMATS_IN_WORDS = "a JPEG, PNG, WebP or GIF image"

NOT_AN_ACCEPTED_IMAGE = (
    f"This file is not {ACCEPTED_FORMATS_IN_WORDS}, whatever its name says. "
    "Please choose a photo or picture in one of those formats."
)
UNREADABLE = "This image could not be read; the file may be damaged or incomplete. Please try another."
BOMB = (
    "This image unpacks to far more pixels than its file size suggests (a “decompression "
    "bomb”), so it was refused. Please choose an ordinary photo or screenshot."
)


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def too_many_pixels(width: int, height: int, frames: int, max_pixels: int) -> ValidationError:
    megapixels = width * height * frames / 1_000_000
    in_frames = f" in {frames:,} frames" if frames > 1 else ""
    return ValidationError(
        f"This image is {width:,} × {height:,} pixels{in_frames} ({megapixels:,.0f} megapixels); the limit is "
        f"{max_pixels / 1_000_000:,.0f} megapixels. Images this large can overwhelm the server "
        "(a “decompression bomb”), so it was refused. Please resize it and try again.",
        code="image_bomb",
    )


class StoryImageField(WagtailImageField):
    """Wagtail's image field, judging a picture by its content and answering in the share form's words."""

    default_validators = []  # Wagtail's validator reads the file name's extension

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.error_messages.update(
            invalid_image=NOT_AN_ACCEPTED_IMAGE,
            empty="This file is empty. Please choose an image.",
        )

    def check_image_file_size(self, f) -> None:
        try:
            super().check_image_file_size(f)
        except ValidationError:
            raise ValidationError(
                f"This image is {megabytes(f.size)} MB; the limit is {megabytes(self.max_upload_size)} MB. "
                "Please choose a smaller image.",
                code="image_too_large",
            ) from None

    def check_image_file_format(self, f) -> None:
        """The content's format must be one the share form takes and WAGTAILIMAGES_EXTENSIONS allows."""
        image_format = f.image.format_name
        if image_format not in PILLOW_FORMATS or image_format not in self.allowed_image_extensions:
            raise ValidationError(self.error_messages["invalid_image"], code="invalid_image")

    def check_image_pixel_size(self, f) -> None:
        width, height = self._size_from_header(f)
        if self.max_image_pixels is not None and width * height > self.max_image_pixels:
            raise too_many_pixels(width, height, 1, self.max_image_pixels)
        try:
            try:
                super().check_image_pixel_size(f)  # decodes the pixels
            except ValidationError:
                frames = f.image.get_frame_count()
                raise too_many_pixels(width, height, frames, self.max_image_pixels) from None
        except (OSError, SyntaxError, ValueError):
            raise ValidationError(UNREADABLE, code="image_unreadable") from None

    def _size_from_header(self, f) -> tuple[int, int]:
        """Width and height as the file declares them, with its structure verified but no pixel decoded."""
        formats = [PILLOW_FORMATS[f.image.format_name]]
        try:
            f.seek(0)
            with warnings.catch_warnings():
                # Pillow only warns between its own limit and twice it; ours is compared by the caller.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(f, formats=formats) as image:
                    size = image.size
                    image.verify()
        except Image.DecompressionBombError:
            raise ValidationError(BOMB, code="image_bomb") from None
        except UnidentifiedImageError:
            raise ValidationError(NOT_AN_ACCEPTED_IMAGE, code="image_wrong_type") from None
        except (OSError, SyntaxError, ValueError):
            raise ValidationError(UNREADABLE, code="image_unreadable") from None
        finally:
            f.seek(0)
        return size


def save_as_wagtail_image(upload: UploadedFile, *, title: str, description: str = "", user=None):
    """Store an upload StoryImageField accepted as a Wagtail image, named with its content's extension."""
    stem = Path(upload.name or "image").stem[:80] or "image"
    upload.seek(0)
    image = get_image_model()(
        title=title[:255],
        description=description[:255],
        file=ImageFile(upload, name=f"{stem}.{EXTENSIONS[upload.image.format_name]}"),
        uploaded_by_user=user,
    )
    image._set_image_file_metadata()
    image.save()
    return image
