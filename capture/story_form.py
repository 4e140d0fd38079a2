"""Turning a completed share form into a draft story, and following it through editorial review.

Plain functions, so the views stay thin and the rules (who may edit what, which state a story is
in, how proposals become themes and people) live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from wagtail.models import Page, WorkflowState

from capture.forms import story_attributes
from capture.images import save_as_wagtail_image
from stories.models import Person, Source, StoryPage, Theme
from stories.services import create_draft
from stories.workflow import submit_for_review

# A title's slug keeps its accents ("café-crème") and up to this many characters.
FORM_SLUG_MAX_LENGTH = 200


def propose_themes(names: list[str], user) -> list[Theme]:
    """Themes for the typed names: an existing one of the same name, or a new one awaiting approval."""
    themes = []
    for name in names:
        theme = Theme.objects.filter(name__iexact=name).first()
        if theme is None:
            theme = Theme.objects.create(name=name, is_approved=False, proposed_by=user)
        themes.append(theme)
    return themes


def find_or_add_people(names: list[str]) -> list[Person]:
    """People for the typed names: the directory entry of that exact name, or a new one for review."""
    people = []
    for name in names:
        person = Person.objects.filter(name__iexact=name).order_by("pk").first()
        if person is None:
            person = Person.objects.create(name=name, needs_review=True)
        people.append(person)
    return people


def search_people(query: str, limit: int = 10) -> list[dict]:
    """Directory entries whose name (or a word of it) starts with the query, for search-as-you-type."""
    query = " ".join(query.split())
    if not query:
        return []
    matches = (
        Person.objects.filter(name__istartswith=query) | Person.objects.filter(name__icontains=f" {query}")
    ).order_by("name")[:limit]
    return [
        {"id": person.pk, "name": person.name, "role": person.role, "team": person.team} for person in matches
    ]


def story_values(cleaned: dict, user) -> dict:
    """The story's attributes from the form, relations included; proposed themes and people are created."""
    values = {name: cleaned[name] for name in story_attributes() if name in cleaned}
    chosen = list(cleaned.get("people") or [])
    typed = [person for person in find_or_add_people(cleaned.get("new_people") or []) if person not in chosen]
    values.update(
        outcome_types=list(cleaned.get("outcome_types") or []),
        themes=[*(cleaned.get("themes") or []), *propose_themes(cleaned.get("new_themes") or [], user)],
        people=[*chosen, *typed],
    )
    return values


def _saved_picture(cleaned: dict, user):
    """The uploaded picture stored as a Wagtail image, or None when none was chosen."""
    upload = cleaned.get("image")
    if not upload:
        return None
    return save_as_wagtail_image(
        upload, title=cleaned["title"], description=cleaned.get("image_alt", ""), user=user
    )


@transaction.atomic
def create_story_from_form(cleaned: dict, user) -> StoryPage:
    """Save the form as a draft story owned and told by the user, and send it to editorial review."""
    values = story_values(cleaned, user)
    story = create_draft(
        user,
        source=Source.FORM,
        slug_max_length=FORM_SLUG_MAX_LENGTH,
        allow_unicode_slug=True,
        cover_image=_saved_picture(cleaned, user),
        **values,
    )
    submit_for_review(story, user)
    return story


# -- After it is shared: states, and the teller's right to edit ---------------------------------


@dataclass(frozen=True)
class StoryStatus:
    """Where a story stands, in the words the teller sees."""

    key: str  # draft, review, changes, published
    label: str
    explanation: str
    editor_comment: str = ""


def story_status(story: StoryPage) -> StoryStatus:
    """Published, in review, changes requested (with the editor's comment) or draft."""
    if story.live:
        return StoryStatus("published", "Published", "Your story is in the library.")
    state = story.current_workflow_state
    if state is not None and state.status == WorkflowState.STATUS_NEEDS_CHANGES:
        comment = state.current_task_state.comment if state.current_task_state else ""
        return StoryStatus(
            "changes",
            "Changes requested",
            "An editor asked for changes. Edit your story and it goes back to them.",
            comment,
        )
    if state is not None and state.status == WorkflowState.STATUS_IN_PROGRESS:
        return StoryStatus(
            "review",
            "In review",
            "An editor will read it soon. If they ask for changes, you can edit it again here.",
        )
    return StoryStatus("draft", "Draft", "Not yet with the editors. Edit it to send it for review.")


def stories_of(user) -> list[StoryPage]:
    """The user's own stories, newest activity first, with their open workflow states fetched in one go."""
    stories = list(
        StoryPage.objects.filter(owner=user)
        .select_related("cover_image")
        .order_by("-latest_revision_created_at", "-pk")
    )
    # Wagtail's prefetch_workflow_states() misses states on a page subclass queryset (its generic
    # relation compares the subclass's content type); WorkflowState keys pages by Page's type.
    states = (
        WorkflowState.objects.active()
        .filter(
            base_content_type=ContentType.objects.get_for_model(Page),
            object_id__in=[str(s.pk) for s in stories],
        )
        .select_related("current_task_state__task")
    )
    by_page: dict[str, list[WorkflowState]] = {}
    for state in states:
        by_page.setdefault(state.object_id, []).append(state)
    for story in stories:
        story._current_workflow_states = by_page.get(str(story.pk), [])
    return stories


def teller_may_edit(story: StoryPage, user) -> bool:
    """The owner may edit a draft, or one an editor sent back; never while it is in review.

    Approving publishes what the editor read: an edit made during the review would go live unseen.
    Published stories and an editor's lock stop the owner too.
    """
    if story.owner_id != user.pk:
        return False
    if story.live or story.first_published_at is not None:
        return False
    if story_is_in_review(story):
        return False
    return not (story.locked and story.locked_by_id != user.pk)


def story_is_in_review(story: StoryPage) -> bool:
    state = story.current_workflow_state
    return state is not None and state.status == WorkflowState.STATUS_IN_PROGRESS


def form_initial_for(story: StoryPage) -> dict:
    """The form's starting values from the latest revision of a story."""
    initial = {name: getattr(story, name) for name in story_attributes()}
    initial.update(
        outcome_types=list(story.outcome_types.all()),
        themes=[theme for theme in story.themes.all() if theme.is_approved],
        new_themes=", ".join(theme.name for theme in story.themes.all() if not theme.is_approved),
        people=list(story.people.all()),
        image_alt=story.cover_image.description if story.cover_image else "",
    )
    return initial


@transaction.atomic
def update_story_from_form(story: StoryPage, cleaned: dict, user) -> StoryPage:
    """Save the teller's edit as a new revision; resubmit if changes were requested, or submit a draft."""
    for name, value in story_values(cleaned, user).items():
        setattr(story, name, value)
    if cleaned.get("remove_image"):
        story.cover_image = None
    if cleaned.get("image"):
        story.cover_image = _saved_picture(cleaned, user)
    story.draft_title = story.title
    story.save()
    story.save_revision(user=user, log_action=True)
    state = story.current_workflow_state
    if state is None:
        submit_for_review(story, user)
    elif state.status == WorkflowState.STATUS_NEEDS_CHANGES:
        state.resume(user)
    return story
