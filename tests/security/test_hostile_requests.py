"""Hostile-request sweep: every URL pattern of the site, fed malformed parameters, never answers 500.

The URL patterns come from the resolver itself (ours, Wagtail's admin and API, Django's auth), so a
new route is swept without being listed here. Path converters are filled with the ids and slugs of
real objects, and with bogus and huge ones. Each URL is then asked, as an anonymous visitor, a
Storytellers member and an Editors member, with parameters that are:

- digits `str.isdigit()` accepts but `int()` does not ("²"), or reads differently ("١٢");
- a NUL, an emoji, 10,000 characters, a 40-digit number, a value given twice, search-engine syntax.

Our own views get each parameter they read on its own (they refuse the first bad one with a 400);
the others get every parameter of a generic set at once, since they ignore what they do not read.
Any status of 500 or above fails the sweep, as does a 400 that does not say why.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import time
import traceback
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.core.signals import got_request_exception
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from PIL import Image as PillowImage
from wagtail.contrib.redirects.models import Redirect
from wagtail.documents.models import Document
from wagtail.images.models import Image
from wagtail.models import Collection, Site

from capture.models import ClipSubmission, SubmissionState
from operations.accounts import EDITORS_GROUP
from stories import middleware
from stories.models import Visibility
from stories.workflow import submit_for_review
from tests.factories import (
    OutcomeTypeFactory,
    PersonFactory,
    StoryPageFactory,
    ThemeFactory,
    UserFactory,
    library,
    make_storyteller,
)
from tests.stories.story_helpers import add_transcript, attach_clip

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

HOSTILE_VALUES: dict[str, list[str]] = {
    "non-ASCII digits": ["²١٢"],  # str.isdigit() is True, int() fails on "²" and reads "١٢" as 12
    "nul": ["a\x00b"],
    "emoji and search syntax": ['🦄 "*(:)-'],
    "overlong": ["x" * 10_000],
    "huge number": ["9" * 40],
    "repeated": ["1", "-1"],
}

# What the other views might read (Wagtail's, Django's, ours that read none of these): sent all at
# once, in every flavour above.
GENERIC_PARAMETERS = (
    "page", "per_page", "q", "year", "theme", "person", "outcome", "limit", "offset", "t", "sort",
    "order", "fields", "search", "p", "ordering", "id", "next", "collection_id", "tag", "locale",
    "content_type", "owner", "type", "child_of", "status", "action", "format", "for_user", "timestamp",
    "workflow", "task", "user", "object_type", "requested_by", "site", "collection", "live", "page_type",
    "timestamp_after", "date_from", "model", "app_label",
)  # fmt: skip

WAGTAIL_API_LISTING = (
    "limit", "offset", "fields", "order", "search", "search_operator", "type", "child_of",
    "ancestor_of", "descendant_of", "locale", "title", "slug",
)  # fmt: skip
# What each of our own views reads (by URL name), and what Wagtail's API reads: each sent on its
# own, in every flavour, since these views refuse the first bad one with a 400.
PARAMETERS_READ = {
    "search:page": ("q", "theme", "person", "outcome", "year", "source", "sort", "page"),
    "search:api": ("q", "theme", "person", "outcome", "year", "source", "sort", "page", "per_page"),
    "search:suggest": ("q",),
    "stories:theme": ("page",),
    "stories:outcome": ("page",),
    "stories:people": ("theme", "q", "page"),
    "stories:transcript": ("inline",),
    "capture:people_search": ("q",),
    "capture:my_stories": ("updated",),
    "wagtail_serve": ("theme", "person", "outcome", "year", "page", "t"),
    "wagtailapi:pages:listing": WAGTAIL_API_LISTING,
    "wagtailapi:pages:detail": ("fields",),
    "wagtailapi:pages:find": ("id", "html_path"),
    "wagtailadmin_api:pages:listing": WAGTAIL_API_LISTING,
    "wagtailadmin_api:images:listing": WAGTAIL_API_LISTING,
    "wagtailadmin_api:documents:listing": WAGTAIL_API_LISTING,
}  # fmt: skip


@dataclass
class Route:
    name: str  # namespace:name, or the view's module for unnamed patterns
    pieces: list  # the pattern objects from the root down

    @property
    def reads(self) -> tuple[str, ...]:
        """The parameters this view is known to read; none known: it gets the generic set."""
        return PARAMETERS_READ.get(self.name, ())

    @property
    def template(self) -> str:
        return "".join(str(piece.pattern) for piece in self.pieces)


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, pieces, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}:{pattern.namespace}" if pattern.namespace else namespace
                walk(pattern.url_patterns, [*pieces, pattern], inner.strip(":"))
                continue
            module = getattr(pattern.callback, "__module__", "")
            name = f"{namespace}:{pattern.name}".strip(":") if pattern.name else module
            routes.append(Route(name=name, pieces=[*pieces, pattern]))

    walk(get_resolver().url_patterns, [], "")
    return routes


# --- Filling path converters -----------------------------------------------------------------------

CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)")


def pk_for(template: str, world: dict) -> str:
    """`pk` means a different model under each admin prefix; elsewhere (the APIs), a story."""
    return str(next((pk for prefix, pk in world["pk_by_prefix"] if prefix in template), world["story_id"]))


def real_value(name: str, template: str, world: dict) -> str:
    if name == "pk":
        return pk_for(template, world)
    if name == "slug":
        return world["person_slug"] if "people" in template else world["theme_slug"]
    return str(world["values"].get(name, world["story_id"]))


BOGUS_VALUES = {"int": ["987654", "9" * 30], "slug": ["no-such-thing"], "str": ["no-such-thing", "🦄²"]}


def bogus_value(index: int):
    def value_of(converter: str | None, name: str) -> str:
        if name in ("uidb64", "token"):
            return "bogus"
        values = BOGUS_VALUES.get(converter or "str", BOGUS_VALUES["str"])
        return values[index % len(values)]

    return value_of


def fill_route(route: Route, world: dict) -> list[str]:
    """The path with real ids and slugs first, then with bogus and huge ones (each path once)."""

    def real(converter: str | None, name: str) -> str:
        return real_value(name, route.template, world)

    paths: list[str] = []
    for variant, value_of in enumerate([real, bogus_value(0), bogus_value(1)]):
        path = "/" + "".join(
            piece_path(piece.pattern, value_of, world, real=variant == 0) for piece in route.pieces
        )
        if path not in paths:
            paths.append(path)
    return paths


def piece_path(pattern, value_of, world: dict, *, real: bool) -> str:
    if isinstance(pattern, RoutePattern):
        return CONVERTER.sub(lambda match: quote(value_of(match["converter"], match["name"])), str(pattern))
    special = world["regex_paths"].get(str(pattern))
    if special is not None:
        return special[0] if real else special[1]
    text = str(pattern).lstrip("^").rstrip("$")
    return NAMED_GROUP.sub(lambda match: quote(value_of("int", match["name"])), text).replace("\\.", ".")


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    PillowImage.new("RGB", (8, 8), "teal").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(settings):
    """Every kind of object a URL can name: stories in each state, media, workflow, snippets."""
    settings.ELASTICSEARCH_URL = None
    teller = make_storyteller("sweep-teller")
    other_teller = make_storyteller("other-teller")
    editor = UserFactory(username="sweep-editor", is_staff=True, is_superuser=True, groups=[EDITORS_GROUP])
    theme, person, outcome = (
        ThemeFactory(name="Pricing"),
        PersonFactory(name="Ada Lovelace"),
        OutcomeTypeFactory(),
    )
    story = StoryPageFactory(title="Public story", themes=[theme], teller=person, outcome_types=[outcome])
    attach_clip(story)
    add_transcript(story, [(0.0, 2.0, "Hello."), (83.0, 86.0, "The moment.")])
    StoryPageFactory(title="Staff-only story", visibility=Visibility.STAFF)
    draft = StoryPageFactory(title="Draft of another teller", publish=False, owner=other_teller)
    state = submit_for_review(draft, other_teller)
    image = Image.objects.create(title="Cover", file=ImageFile(io.BytesIO(tiny_png()), name="cover.png"))
    document = Document.objects.create(title="Notes")
    document.file.save("notes.txt", ContentFile(b"notes"), save=True)
    submission = ClipSubmission.objects.create(submitter=teller, state=SubmissionState.FAILED, error="x")
    redirect = Redirect.objects.create(old_path="/old-path", redirect_link="/stories/")
    task_state = state.current_task_state
    values = {
        "page_id": story.pk,
        "parent_page_id": library().pk,
        "page_to_move_id": draft.pk,
        "destination_id": library().pk,
        "page_pk": story.pk,
        "story_id": story.pk,
        "image_id": image.pk,
        "document_id": document.pk,
        "doc_id": document.pk,
        "uploaded_file_id": 1,
        "revision_id": story.latest_revision.pk,
        "task_state_id": task_state.pk,
        "task_id": task_state.task_id,
        "workflow_state_id": state.pk,
        "workflow_pk": state.workflow_id,  # the editorial review
        "session_id": 1,
        "redirect_id": redirect.pk,
        "collection_id": Collection.get_first_root_node().pk,
        "restriction_id": 1,
        "page_view_restriction_id": 1,
        "submission_id": submission.pk,
        "content_type_app_name": "stories",
        "content_type_model_name": "storypage",
        "app_label": "stories",
        "model_name": "storypage",
        "app_name": "stories",
        "action": "delete",
        "action_name": "approve",
        "object_id": story.pk,
        "filter_spec": "fill-80x80",
        "transcript_format": "vtt",
        "uidb64": "MQ",
        "token": "set-password",
    }
    media = story.clip.file.name
    world = {
        "users": {"anonymous": None, "storyteller": teller, "editor": editor},
        "story_id": story.pk,
        "theme_slug": theme.slug,
        "person_slug": person.slug,
        "values": values,
        "pk_by_prefix": [
            ("admin/collections/", values["collection_id"]),
            ("admin/workflows/tasks/", values["task_id"]),
            ("admin/workflows/", values["workflow_pk"]),
            ("stories/person/", person.pk),
            ("stories/theme/", theme.pk),
            ("stories/outcometype/", outcome.pk),
            ("admin/clip_submissions/", submission.pk),
            ("admin/sites/", Site.objects.get().pk),
            ("admin/users/", other_teller.pk),
            ("admin/groups/", teller.groups.get().pk),
            ("images", image.pk),
            ("documents", document.pk),
        ],
        "regex_paths": {
            r"^.*/$": ("no-such-admin-view/", "🦄/"),
            r"^(\d+)/(.*)$": (f"{document.pk}/{document.filename}", "9" * 30 + "/x.txt"),
            r"^((?:[\w\-]+/)*)$": (story.url.lstrip("/"), "no-such-page/"),
            r"^media/(?P<path>.+)$": (f"media/{media}", "media/clips/../../settings.py"),
        },
        "extra_paths": ["/", "/stories/", draft.url or "/stories/draft-of-another-teller/"],
    }
    return world


# --- Asking ----------------------------------------------------------------------------------------

# Where a plain request is turned away (sign-in redirect, 403, 404, 405), where the view class was
# swept already under another route (Wagtail's snippet and model viewsets), and for a storyteller
# in the admin (a subset of what the editor reaches), two flavours are enough.
REDUCED_FLAVOURS = ("non-ASCII digits", "huge number")
POST_FLAVOURS = ("non-ASCII digits", "overlong")
TURNED_AWAY = {301, 302, 303, 403, 404, 405}
# POSTs that delete or move what later routes name run last.
DESTRUCTIVE = re.compile(r"delete|unpublish|remove|disable|move|revert|convert_alias|logout|unlock")
OPEN_ADMIN_ROUTES = ("admin/login/", "admin/password_reset/")


def view_key(route: Route) -> str:
    callback = route.pieces[-1].callback
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    return f"{view_class.__module__}.{view_class.__qualname__}" if view_class else route.template


def guarded_parameters(path: str) -> tuple[str, ...]:
    """What stories.middleware reads strictly before this path's view runs (refused with a 400)."""
    if path.startswith(middleware.WAGTAIL_API_PREFIXES):
        return (*middleware.WAGTAIL_API_NUMBERS, "child_of", "search")
    if path.startswith("/admin/"):
        return (*middleware.ADMIN_IDS, "p")
    return ()


def hostile_forms(route: Route, flavours, *, leave_out=()) -> list[tuple[str, list[tuple[str, str]]]]:
    """(flavour, parameters) pairs: our views one parameter at a time, others all at once."""
    forms = []
    for flavour in flavours:
        values = HOSTILE_VALUES[flavour]
        if route.reads:
            for name in route.reads:
                forms.append((f"{flavour} {name}", [(name, value) for value in values]))
        else:
            names = [name for name in GENERIC_PARAMETERS if name not in leave_out]
            forms.append((flavour, [(name, value) for name in names for value in values]))
    return forms


def guarded_forms(path: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The guarded parameters alone, to see the middleware refuse them with a reason."""
    guarded = guarded_parameters(path)
    return [
        (f"{flavour} guarded", [(name, value) for name in guarded for value in HOSTILE_VALUES[flavour]])
        for flavour in REDUCED_FLAVOURS
        if guarded
    ]


def says_why(response) -> bool:
    """A JSON refusal carries a message; a page carries its reason in the alert the 400 page shows."""
    body = response.content.decode(errors="replace")
    content_type = response.get("Content-Type", "")
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError:
            return False
        return isinstance(data, dict) and any(
            isinstance(value, str) and value.strip() for value in data.values()
        )
    if content_type.startswith("text/html"):
        alert = re.search(r'role="alert">(.*?)</', body, re.DOTALL)
        return bool(alert and alert.group(1).strip())
    return bool(body.strip())


def allowed_failure(path: str, status: int) -> bool:
    """Two answers of 500 and over that are no crash.

    /healthz answers 503 while a check fails (here: no worker runs): that is its job. Wagtail's
    /admin/failwhale/ raises on purpose, so that an admin can see that error reports arrive.
    """
    return (path == "/healthz" and status == 503) or path == "/admin/failwhale/"


class Sweep:
    """One reader (anonymous, storyteller or editor) asking every route."""

    def __init__(self, user, role: str):
        self.client = Client(raise_request_exception=False)
        if user is not None:
            self.client.force_login(user)
        self.role, self.method = role, "GET"
        self.failures: list[str] = []
        self.asked = 0
        self.last_exception = ""

    def remember_exception(self, sender, request=None, **kwargs):
        error = sys.exc_info()[1]
        where = traceback.extract_tb(error.__traceback__)[-1]
        self.last_exception = f"{type(error).__name__}: {str(error)[:120]} at {where.filename}:{where.lineno}"

    def ask(self, path: str, flavour: str = "plain", parameters: list[tuple[str, str]] = ()) -> int:
        self.last_exception = ""
        if self.method == "GET":
            response = self.client.get(f"{path}?{urlencode(parameters)}" if parameters else path)
        else:
            form: dict[str, list[str]] = {}
            for name, value in parameters:
                form.setdefault(name, []).append(value)
            response = self.client.post(path, form)
        self.asked += 1
        problem = ""
        if response.status_code >= 500 and not allowed_failure(path, response.status_code):
            problem = f"{response.status_code} {self.last_exception}"
        elif response.status_code == 400 and not says_why(response):
            problem = "400 without a reason"
        if problem:
            self.failures.append(f"{self.method} as {self.role} {path[:90]} [{flavour}]: {problem}")
        return response.status_code

    def get(self, route: Route, world: dict, *, first_of_its_view: bool) -> None:
        real, *bogus = fill_route(route, world)
        paths = [real] + (world["extra_paths"] if route.name == "wagtail_serve" else [])
        for path in paths:
            turned_away = self.ask(path) in TURNED_AWAY
            full = first_of_its_view and not turned_away
            if self.role == "storyteller" and path.startswith("/admin/"):
                full = False
            flavours = HOSTILE_VALUES if full else REDUCED_FLAVOURS
            if self.role != "anonymous":  # the middleware refuses a NUL before any view, for anyone
                flavours = [flavour for flavour in flavours if flavour != "nul"]
            # Guarded parameters are left out, so that the middleware's 400 does not keep the other
            # hostile values from the view; the guard answers alike for everyone: asked once.
            guarded = () if route.reads else guarded_parameters(path)
            forms = hostile_forms(route, flavours, leave_out=guarded)
            if self.role == "anonymous" and not route.reads:
                forms += guarded_forms(path)
            for flavour, parameters in forms:
                self.ask(path, flavour, parameters)
        for path in bogus:
            self.ask(path, "bogus path")

    def post(self, route: Route, world: dict, *, first_of_its_view: bool) -> None:
        """A form of hostile values to each view once; anonymous admin POSTs all stop at sign-in."""
        admin_gate = route.template.startswith("admin/") and not route.template.startswith(OPEN_ADMIN_ROUTES)
        if not first_of_its_view or (self.role == "anonymous" and admin_gate):
            return
        path = fill_route(route, world)[0]
        for flavour, parameters in hostile_forms(route, POST_FLAVOURS):
            self.ask(path, flavour, parameters)


@pytest.fixture
def quiet_request_log():
    """Each 404 and 400 of the sweep would be logged; the failures list is what matters."""
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def run_sweep(world: dict, role: str) -> Sweep:
    """Every route by GET, then by POST (destructive ones last, as they remove what others name)."""
    sweep = Sweep(world["users"][role], role)
    routes = all_routes()
    got_request_exception.connect(sweep.remember_exception)
    try:
        for method, ordered in (
            ("GET", routes),
            ("POST", sorted(routes, key=lambda route: bool(DESTRUCTIVE.search(route.template)))),
        ):
            sweep.method = method
            ask = sweep.get if method == "GET" else sweep.post
            seen: set[str] = set()
            for route in ordered:
                key = view_key(route)
                ask(route, world, first_of_its_view=key not in seen)
                seen.add(key)
    finally:
        got_request_exception.disconnect(sweep.remember_exception)
    return sweep


@pytest.mark.parametrize("role", ["anonymous", "storyteller", "editor"])
def test_no_url_answers_500_to_hostile_parameters(world, quiet_request_log, role):
    started = time.monotonic()
    sweep = run_sweep(world, role)
    print(f"as {role}: {sweep.asked} requests in {time.monotonic() - started:.1f} s")
    assert not sweep.failures, f"{len(sweep.failures)} failures:\n" + "\n".join(sweep.failures)
