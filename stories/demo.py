"""Demo content for a new Storybank: colleagues, themes, outcome types and their aha stories.

The content is data in `fixtures/demo/` (JSON Lines): themes with their cover colours, outcome
types, people, and stories in the importer's record format plus two demo-only keys (`helpful`: how
many readers found it helpful; `in_review`: a draft waiting for an editor). Stories load through
the importer, which gives each its first revision.

`load_demo()` is safe to run on every start: everything is keyed (stories by external_id, people
by e-mail, themes and outcome types by slug), only what is missing is created, and an installation
that already has it all costs a handful of queries. Stories an editor has changed are never reset.
Cover images are drawn with Pillow in each story's theme colours; nothing is downloaded.
"""

from __future__ import annotations

import io
import json
import math
import random
from functools import cache
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.db import transaction
from django.utils.text import slugify
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFilter
from wagtail.images import get_image_model
from wagtail.models import Revision

from stories.importing import bulk_import_mode, import_records
from stories.models import HelpfulVote, OutcomeType, Person, StoryPage, Theme
from stories.workflow import submit_for_review

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "demo"
DEMO_READER_PREFIX = "demo-reader-"
DEMO_ONLY_KEYS = ("helpful", "in_review")
DEFAULT_COLOURS = ("#2e5e4e", "#9fd3c7", "#f6f1e7")  # gradient start, gradient end, accent


@cache
def fixture(name: str) -> tuple[dict, ...]:
    """The rows of `fixtures/demo/<name>.jsonl`."""
    with open(FIXTURES / f"{name}.jsonl", encoding="utf-8") as stream:
        return tuple(json.loads(line) for line in stream if line.strip())


# Theme name -> its row (description, colours: gradient start, gradient end, accent).
THEMES = {row["name"]: row for row in fixture("themes")}
# Outcome type name -> its row (description).
OUTCOME_TYPES = {row["name"]: row for row in fixture("outcome_types")}


# Building --------------------------------------------------------------------------------------


def _hex(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def draw_cover(theme: str, seed: str, size: tuple[int, int] = (1200, 630)) -> bytes:
    """An abstract JPEG cover in the theme's colours: a gradient, soft circles and flowing bands."""
    colours = THEMES[theme]["colours"] if theme in THEMES else DEFAULT_COLOURS
    start, end, accent = (_hex(colour) for colour in colours)
    rng = random.Random(seed)
    width, height = size[0] // 2, size[1] // 2  # drawn at half size: soft shapes scale up well
    gradient = (
        PILImage.linear_gradient("L").rotate(rng.choice([0, 45, 90, 135, 180, 270])).resize((width, height))
    )
    image = PILImage.composite(
        PILImage.new("RGB", (width, height), end), PILImage.new("RGB", (width, height), start), gradient
    )

    def paint(colour, draw_shape, blur):
        mask = PILImage.new("L", (width, height), 0)
        draw_shape(ImageDraw.Draw(mask))
        mask = mask.filter(ImageFilter.GaussianBlur(radius=blur))
        image.paste(PILImage.new("RGB", (width, height), colour), (0, 0), mask)

    for _ in range(6):
        radius = rng.randint(height // 6, height // 2)
        x, y = rng.randint(0, width), rng.randint(0, height)
        opacity = rng.randint(50, 110)
        paint(
            rng.choice([accent, end, start]),
            lambda draw, x=x, y=y, r=radius, o=opacity: draw.ellipse((x - r, y - r, x + r, y + r), fill=o),
            blur=rng.choice([1, 2, 8]),
        )
    for band in range(3):
        amplitude = rng.randint(10, 35)
        frequency = rng.uniform(0.6, 1.6)
        phase = rng.random() * math.tau
        base = height * (0.3 + 0.2 * band)
        points = [
            (x, base + amplitude * math.sin(phase + x / width * math.tau * frequency))
            for x in range(0, width + 6, 6)
        ]
        thickness = rng.randint(4, 12)
        paint(
            accent, lambda draw, p=points, t=thickness: draw.line(p, fill=150, width=t, joint="curve"), blur=2
        )
    image = image.resize(size, PILImage.Resampling.BICUBIC)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=85)
    return output.getvalue()


def _ensure_vocabulary() -> None:
    existing_themes = set(Theme.objects.values_list("slug", flat=True))
    for name, row in THEMES.items():
        if slugify(name) not in existing_themes:
            Theme.objects.create(
                name=name, slug=slugify(name), description=row["description"], is_approved=True
            )
    existing_outcomes = set(OutcomeType.objects.values_list("slug", flat=True))
    for name, row in OUTCOME_TYPES.items():
        if slugify(name) not in existing_outcomes:
            OutcomeType.objects.create(name=name, slug=slugify(name), description=row["description"])


def _ensure_people() -> int:
    people = fixture("people")
    existing = set(
        Person.objects.filter(email__in=[p["email"] for p in people]).values_list("email", flat=True)
    )
    created = 0
    for row in people:
        if row["email"] in existing:
            continue
        person = Person.objects.filter(name=row["name"], email__isnull=True).first() or Person(
            name=row["name"]
        )
        person.email = row["email"]
        person.role, person.team, person.bio = row["role"], row["team"], row["bio"]
        person.save()
        person.strengths.add(*row["strengths"])
        created += 1
    return created


def _demo_readers(count: int) -> list:
    """Unusable accounts whose votes stand behind the demo's "this helped me" counts."""
    User = get_user_model()
    names = [f"{DEMO_READER_PREFIX}{n:02d}" for n in range(1, count + 1)]
    existing = {user.username: user for user in User.objects.filter(username__in=names)}
    readers = []
    for name in names:
        user = existing.get(name)
        if user is None:
            user = User(username=name, email=f"{name}@example.org", is_active=False)
            user.set_unusable_password()
            user.save()
        readers.append(user)
    return readers


def _finish_new_stories(created: list[StoryPage], extras: dict[str, dict]) -> None:
    """Covers and helpful votes (kept in the import's revision), and the review for two drafts."""
    Image = get_image_model()
    readers = _demo_readers(max((extra.get("helpful", 0) for extra in extras.values()), default=0))
    for story in created:
        extra = extras[story.external_id]
        theme = extra["themes"][0] if extra["themes"] else ""
        cover = Image(
            title=f"Cover: {story.title}"[:255],
            description=f"Abstract cover in the colours of the theme {theme}"[:255],
        )
        cover.file = ImageFile(
            io.BytesIO(draw_cover(theme, story.external_id)), name=f"{story.external_id}.jpg"
        )
        cover.save()
        votes = [HelpfulVote(story=story, user=reader) for reader in readers[: extra.get("helpful", 0)]]
        HelpfulVote.objects.bulk_create(votes)
        StoryPage.objects.filter(pk=story.pk).update(
            cover_image=cover, helpful_count=len(votes), source="form"
        )
        story.refresh_from_db()
        Revision.objects.filter(pk=story.latest_revision_id).update(content=story.serializable_data())
        if extra.get("in_review") and not story.live:
            submit_for_review(story, None)


def demo_is_loaded() -> bool:
    ids = [record["external_id"] for record in fixture("stories")]
    emails = [person["email"] for person in fixture("people")]
    return StoryPage.objects.filter(external_id__in=ids).count() == len(ids) and Person.objects.filter(
        email__in=emails
    ).count() == len(emails)


def load_demo() -> dict[str, int]:
    """Create whatever demo content is missing; returns counts of what was created."""
    if demo_is_loaded():
        return {"stories": 0, "people": 0}
    stories = fixture("stories")
    with transaction.atomic(), bulk_import_mode():
        _ensure_vocabulary()
        people_created = _ensure_people()
        existing = set(
            StoryPage.objects.filter(external_id__in=[r["external_id"] for r in stories]).values_list(
                "external_id", flat=True
            )
        )
        missing = [record for record in stories if record["external_id"] not in existing]
        report = import_records(
            (
                (number, {key: value for key, value in record.items() if key not in DEMO_ONLY_KEYS})
                for number, record in enumerate(missing, 1)
            ),
            batch_size=100,
        )
        if report.errors:
            raise RuntimeError(f"The demo content is broken: {report.errors}")
        extras = {record["external_id"]: record for record in missing}
        created = list(StoryPage.objects.filter(external_id__in=extras).order_by("path"))
        _finish_new_stories(created, extras)
    return {"stories": len(created), "people": people_created}
