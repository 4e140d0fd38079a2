"""The share form journey: write a story, see it in "My stories", edit it until it is published."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from capture.forms import EditStoryForm, ShareStoryForm, share_form_prefill
from capture.rate_limit import rate_limit_message, story_rate_limit_reached
from capture.signals import story_shared
from capture.story_form import (
    create_story_from_form,
    form_initial_for,
    search_people,
    stories_of,
    story_status,
    teller_may_edit,
    update_story_from_form,
)
from stories.models import Person, StoryPage
from stories.params import QueryParams


def autosave_key(user, story: StoryPage | None = None) -> str:
    """Where the browser keeps the text being typed: one slot per user and per story."""
    return f"storybank:share:{user.pk}:{f'story-{story.pk}' if story else 'new'}"


def _chosen_people(form) -> list[Person]:
    """The directory people picked in the form, for re-rendering them as removable chips."""
    value = form["people"].value() or []
    ids = [getattr(item, "pk", item) for item in value]
    ids = [int(pk) for pk in ids if str(pk).isdigit()]
    people = {person.pk: person for person in Person.objects.filter(pk__in=ids)}
    return [people[pk] for pk in ids if pk in people]


def _render_form(
    request, form, *, story=None, status=200, notice: str = "", rate_limit_reached: bool = False
) -> HttpResponse:
    return render(
        request,
        "capture/share_form.html",
        {
            "form": form,
            "story": story,
            "chosen_people": _chosen_people(form),
            "autosave_key": autosave_key(request.user, story),
            "rate_limit_notice": notice,
            "rate_limit_reached": rate_limit_reached,
        },
        status=status,
    )


@login_required
def share_story(request: HttpRequest) -> HttpResponse:
    """/share/: the guided form; a valid story becomes a draft sent to editorial review.

    A link may fill in the story's text questions and pass an origin (`share_form_prefill`);
    whoever made the link hears of the draft through `capture.signals.story_shared`.
    """
    if request.method != "POST":
        form = ShareStoryForm(initial=share_form_prefill(request.GET))
        return _render_form(request, form, rate_limit_reached=story_rate_limit_reached(request.user))
    form = ShareStoryForm(request.POST, request.FILES)
    if story_rate_limit_reached(request.user):
        return _render_form(request, form, status=429, notice=rate_limit_message())
    if not form.is_valid():
        return _render_form(request, form)
    story = create_story_from_form(form.cleaned_data, request.user)
    story_shared.send(StoryPage, story=story, user=request.user, origin=form.cleaned_data["origin"])
    return redirect("capture:story_submitted", page_id=story.pk)


@login_required
def story_submitted(request: HttpRequest, page_id: int) -> HttpResponse:
    """What happens next; also tells the browser it may forget the autosaved text."""
    story = get_object_or_404(StoryPage, pk=page_id, owner=request.user)
    status = story_status(story)
    if status.key != "review":  # an old link: My stories tells the current state
        return redirect("capture:my_stories")
    return render(
        request,
        "capture/share_done.html",
        {"story": story, "status": status, "autosave_key": autosave_key(request.user)},
    )


@login_required
def my_stories(request: HttpRequest) -> HttpResponse:
    """/share/mine/: each of the user's stories with where it stands."""
    stories = [
        {"story": story, "status": story_status(story), "editable": teller_may_edit(story, request.user)}
        for story in stories_of(request.user)
    ]
    updated = QueryParams(request.GET).integer("updated", maximum=2**31 - 1)
    updated_story = next((row["story"] for row in stories if row["story"].pk == updated), None)
    return render(
        request,
        "capture/my_stories.html",
        {
            "stories": stories,
            "autosave_clear_key": autosave_key(request.user, updated_story) if updated_story else "",
        },
    )


@login_required
def edit_story(request: HttpRequest, page_id: int) -> HttpResponse:
    """/share/story/<id>/edit/: the owner changes an unpublished story; others get a 404."""
    page = StoryPage.objects.filter(pk=page_id, owner=request.user).first()
    if page is None:
        raise Http404("No story of yours has this address.")
    if not teller_may_edit(page, request.user):
        return render(
            request,
            "capture/story_not_editable.html",
            {"story": page, "status": story_status(page)},
            status=403,
        )
    story = page.get_latest_revision_as_object()
    form_kwargs = {"has_cover_image": story.cover_image_id is not None}
    if request.method != "POST":
        return _render_form(
            request, EditStoryForm(initial=form_initial_for(story), **form_kwargs), story=story
        )
    form = EditStoryForm(request.POST, request.FILES, **form_kwargs)
    if not form.is_valid():
        return _render_form(request, form, story=story)
    update_story_from_form(story, form.cleaned_data, request.user)
    messages.success(request, f"Your changes to “{story.title}” are saved and with the editors for review.")
    return redirect(f"{reverse('capture:my_stories')}?updated={story.pk}")


@require_GET
def people_search(request: HttpRequest) -> JsonResponse:
    """/share/people/?q=…: names from the people directory, for signed-in users only."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Please sign in to search the people directory."}, status=403)
    return JsonResponse({"results": search_people(QueryParams(request.GET).text("q", max_length=100))})
