"""Factories for test data (factory-boy): users, people, themes, outcome types and stories."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from stories.models import Clip, OutcomeType, Person, StoryIndexPage, StoryPage, Theme, Visibility


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or []:
            self.groups.add(Group.objects.get_or_create(name=name)[0])


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Faker("name")
    role = factory.Faker("job")
    team = factory.Iterator(["Sales", "Support", "Research", "Finance", "Engineering"])


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Theme {n}")


class OutcomeTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutcomeType
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Outcome {n}")


def library() -> StoryIndexPage:
    return StoryIndexPage.objects.get()


def make_story(
    *,
    title: str = "A question moved out of email",
    themes=(),
    outcome_types=(),
    people=(),
    teller: Person | None = None,
    visibility: str = Visibility.PUBLIC,
    publish: bool = True,
    **fields,
) -> StoryPage:
    """Create a story in the library, published (with a revision) unless publish=False.

    `helpful_count=N` casts N real "this helped me" votes: the votes are the truth the count follows.
    """
    helpful_votes = fields.pop("helpful_count", 0)
    fields.setdefault("context", "Customer questions sat in one inbox for days.")
    fields.setdefault("aha", "Posting the question on the internal network got an answer in an hour.")
    fields.setdefault("outcome", "Answers now come the same day.")
    story = StoryPage(
        title=title,
        teller=teller,
        visibility=visibility,
        consent=True,
        live=False,
        **fields,
    )
    library().add_child(instance=story)
    story.themes.set(themes)
    story.outcome_types.set(outcome_types)
    story.people.set(people)
    if helpful_votes:
        from stories.models import HelpfulVote

        User = get_user_model()
        voters = [User.objects.create(username=f"voter-{story.pk}-{n}") for n in range(helpful_votes)]
        HelpfulVote.objects.bulk_create(HelpfulVote(story=story, user=voter) for voter in voters)
        story.helpful_count = helpful_votes
    revision = story.save_revision()
    if publish:
        revision.publish()
        story.refresh_from_db()
    return story


def make_editor(username: str = "edna") -> object:
    """A user in the Editors group (created by the stories migrations): may publish stories."""
    from operations.accounts import EDITORS_GROUP

    return UserFactory(username=username, groups=[EDITORS_GROUP])


def make_storyteller(username: str = "sam") -> object:
    """A user in the Storytellers group: may write and submit stories, not publish them."""
    from operations.accounts import STORYTELLERS_GROUP

    return UserFactory(username=username, groups=[STORYTELLERS_GROUP])


def make_clip(*, media_kind: str = "audio", name: str = "story.wav", content: bytes = b"RIFF") -> Clip:
    """A clip row with a small stored file (not playable audio: enough for admin rendering)."""
    from django.core.files.base import ContentFile

    clip = Clip(media_kind=media_kind, original_name=name, content_type=f"{media_kind}/wav", duration=12.5)
    clip.file.save(name, ContentFile(content), save=False)
    clip.save()
    return clip
