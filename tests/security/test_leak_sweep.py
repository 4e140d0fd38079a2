"""The leak sweep: a draft, a staff-only story and a withdrawn one, each with a clip, a cover (and its
rendition), a poster frame and a document, never reach an anonymous reader — by any route or any
spelling of a file's path — and a storyteller gets none of another teller's.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import ReferenceIndex
from wagtail.rich_text import RichText

from questions.feeds import answered_feed_url
from questions.models import Question, QuestionStatus
from search.sync import apply_pending_updates
from stories.models import Clip, Theme, TranscriptSegment, Visibility
from tests.factories import PersonFactory, StoryPageFactory, ThemeFactory, make_storyteller

pytestmark = pytest.mark.django_db

KINDS = ("draft", "staffonly", "withdrawn")


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (40 + seed, 30), (seed * 40 % 256, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def image(title: str, seed: int, owner) -> object:
    return get_image_model().objects.create(
        title=title, file=ImageFile(io.BytesIO(png(seed)), name=f"{title}.png"), uploaded_by_user=owner
    )


def story_with_files(kind: str, seed: int, owner, theme, helper):
    word = f"zebracorn{kind}"
    cover, poster = image(f"cover-{kind}", seed, owner), image(f"poster-{kind}", seed + 1, owner)
    rendition = cover.get_rendition("fill-20x20")
    clip = Clip(original_name=f"{kind}.wav", poster=poster)
    clip.file.save(f"{kind}.wav", ContentFile(f"CLIP-{kind}-".encode() * 64), save=True)
    document = get_document_model().objects.create(title=f"notes-{kind}", uploaded_by_user=owner)
    document.file.save(f"notes-{kind}.txt", ContentFile(f"DOCUMENT-{kind}-secret".encode() * 8))
    story = StoryPageFactory(
        title=f"The {word} story",
        aha=f"Everyone learned about {word} that day.",
        themes=[theme],
        people=[helper],
        publish=kind != "draft",
        visibility=Visibility.STAFF if kind == "staffonly" else Visibility.PUBLIC,
        owner=owner,
        cover_image=cover,
        clip=clip,
        body=[("paragraph", RichText(f'<p>See <a linktype="document" id="{document.pk}">the notes</a></p>'))],
    )
    TranscriptSegment.objects.create(story=story, start=0, end=2, text=f"I said {word} out loud")
    ReferenceIndex.create_or_update_for_object(story)  # what Wagtail's queued task does in the worker
    files = {
        "clip": clip.file,
        "cover": cover.file,
        "rendition": rendition.file,
        "poster": poster.file,
        "document": document.file,
    }
    return story, word, {name: (f.name, f.open("rb").read()) for name, f in files.items()}, document


@pytest.fixture
def library_with_secrets(settings):
    settings.ELASTICSEARCH_URL = None
    alice = make_storyteller("alice")
    theme = ThemeFactory(name="Secret keeping", is_approved=True)
    control = StoryPageFactory(title="A public story anyone may read", themes=[theme])
    hidden = {}
    for seed, kind in enumerate(KINDS, start=1):
        helper = PersonFactory(name=f"Hidden Helper {kind.title()}")
        hidden[kind] = (*story_with_files(kind, seed * 10, alice, theme, helper), helper)
    apply_pending_updates(wait=True)
    # Withdrawn after the index knew it as public: its index update is still waiting.
    hidden["withdrawn"][0].unpublish()
    # A question answered by each hidden story, as if answered while the story could be read.
    for story, word, *_ in hidden.values():
        question = Question.objects.create(
            text=f"Has anyone dealt with {word} before?",
            asker=alice,
            status=QuestionStatus.ANSWERED,
            answered_by=story,
        )
        question.themes.add(theme)
    return {"alice": alice, "control": control, "hidden": hidden}


def path_spellings(name: str) -> list[str]:
    folder, _, base = name.partition("/")
    return [
        f"/media/{name}",
        f"/media/./{name}",
        f"/media/%2e/{name}",
        f"/media/%2E/{name}",
        f"/media//{name}",
        f"/media/{folder}//{base}",
        f"/media/{folder}/./{base}",
        f"/media/{folder}/../{name}",
        f"/media/../media/{name}",
        f"/media/{folder}%2f{base}",
        f"/media/{folder.upper()}/{base}",
        f"/media/{name}/",
        f"/media/{name}?download=1",
    ]


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def routes_for(story, document, helper, reader=None) -> list[str]:
    answered = list(Question.objects.filter(answered_by=story).values_list("pk", flat=True))
    # A signed-in reader's own feeds of answered questions (their address carries a key for them).
    feeds = (
        [answered_feed_url(reader), answered_feed_url(reader, Theme.objects.get(slug="secret-keeping"))]
        if reader
        else []
    )
    return [
        *feeds,
        f"/people/{helper.slug}/",
        f"/feeds/people/{helper.slug}/",
        f"/search/?person={helper.slug}",
        f"/api/search/?person={helper.slug}",
        f"/stories/?person={helper.slug}",
        f"/share/people/?q={helper.name}",
        f"/stories/{story.pk}/helpful/",
        "/",
        "/stories/",
        story.url or f"/stories/{story.slug}/",
        f"/stories/{story.slug}/",
        "/people/",
        "/feeds/stories/",
        "/feeds/themes/secret-keeping/",
        "/sitemap.xml",
        "/api/v2/pages/?type=stories.StoryPage&fields=*",
        f"/api/v2/pages/{story.pk}/",
        f"/api/v2/pages/find/?html_path=/stories/{story.slug}/",
        f"/stories/{story.pk}/transcript.txt",
        f"/stories/{story.pk}/transcript.vtt?inline=1",
        f"/documents/{document.pk}/{document.filename}",
        "/themes/secret-keeping/",
        "/search/?q={word}",
        "/search/?theme=secret-keeping",
        "/api/search/?q={word}",
        "/api/search/?theme=secret-keeping",
        "/api/search/suggest/?q={word}",
        "/ask/?q={word}",
        "/questions/",
        "/questions/?status=answered",
        *[f"/questions/{pk}/" for pk in answered],
        "/api/questions/",
        "/api/questions/?status=answered",
        "/api/questions/?theme=secret-keeping",
        *[f"/api/questions/{pk}/" for pk in answered],
    ]


def assert_nothing_leaks(client, hidden_entry, reader=None):
    story, word, files, document, helper = hidden_entry
    secrets = [content for _name, content in files.values()]
    for route in routes_for(story, document, helper, reader):
        url = route.format(word=word)
        response = client.get(url)
        assert response.status_code < 500, url
        body = body_of(response)
        for phrase in (story.title, story.aha, f"I said {word}"):
            assert phrase.encode() not in body, (url, phrase)
        if url.startswith("/api/search/?q="):
            assert response.json()["total"] == 0, url
        if not response.wsgi_request.user.is_authenticated:  # staff may browse the whole directory
            assert helper.name.encode() not in body, url
        assert not any(secret in body for secret in secrets), url
    for name, content in files.values():
        for url in path_spellings(name):
            response = client.get(url)
            assert response.status_code < 500, url
            assert content not in body_of(response), url


@pytest.mark.parametrize("kind", KINDS)
def test_anonymous_readers_get_no_byte_or_word_of_a_hidden_story(client, library_with_secrets, kind):
    assert_nothing_leaks(client, library_with_secrets["hidden"][kind])


@pytest.mark.parametrize("kind", ["draft", "withdrawn"])
def test_another_storyteller_gets_none_of_a_tellers_unpublished_story(client, library_with_secrets, kind):
    bob = make_storyteller("bob")
    client.force_login(bob)
    assert_nothing_leaks(client, library_with_secrets["hidden"][kind], reader=bob)


def test_the_teller_still_gets_their_own_draft_files(client, library_with_secrets):
    client.force_login(library_with_secrets["alice"])
    _story, _word, files, _document, _helper = library_with_secrets["hidden"]["draft"]
    for name, content in files.values():
        assert body_of(client.get(f"/media/{name}")) == content, name


def test_signed_in_readers_get_the_files_of_a_staff_only_story(client, library_with_secrets):
    client.force_login(make_storyteller("bob"))
    _story, _word, files, _document, _helper = library_with_secrets["hidden"]["staffonly"]
    for name, content in files.values():
        assert body_of(client.get(f"/media/{name}")) == content, name


def test_files_of_a_public_story_are_served_to_anyone(client, library_with_secrets):
    cover = image("public-cover", 99, None)
    story = library_with_secrets["control"]
    story.cover_image = cover
    story.save_revision().publish()
    assert client.get(f"/media/{cover.file.name}").status_code == 200
    assert client.get(f"/media/{cover.get_rendition('fill-20x20').file.name}").status_code == 200


def test_a_file_no_story_uses_is_for_editors_only(client, library_with_secrets):
    orphan = image("orphan", 7, None)
    assert client.get(f"/media/{orphan.file.name}").status_code == 404
    client.force_login(make_storyteller("bob"))
    assert client.get(f"/media/{orphan.file.name}").status_code == 404


def test_an_unapproved_theme_is_named_in_no_feed_or_api(client):
    from tests.factories import ThemeFactory

    proposed = ThemeFactory(name="Proposed Zanzibar theme", is_approved=False)
    StoryPageFactory(
        title="Published with a proposed theme", themes=[ThemeFactory(name="Approved"), proposed]
    )
    for url in ("/feeds/stories/", "/api/v2/pages/?type=stories.StoryPage&fields=theme_names"):
        assert b"Zanzibar" not in client.get(url).content, url
