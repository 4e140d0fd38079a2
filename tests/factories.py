"""Factories for test data (factory-boy): users, people, themes, outcome types and stories."""

from __future__ import annotations

import factory
import wagtail_factories
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from stories.models import (
    Clip,
    HelpfulVote,
    OutcomeType,
    Person,
    StoryIndexPage,
    StoryPage,
    Theme,
    Visibility,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("correct horse battery")

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


class StoryPageFactory(wagtail_factories.PageFactory):
    """A story in the library, published (with a revision) unless `publish=False`.

    `helpful_count=N` casts N real "this helped me" votes: the votes are the truth the count follows.
    """

    class Meta:
        model = StoryPage
        skip_postgeneration_save = True

    parent = factory.LazyFunction(library)
    title = "A question moved out of email"
    slug = ""  # Wagtail makes a free one from the title, as the admin does
    teller = None
    visibility = Visibility.PUBLIC
    consent = True
    live = False
    context = "Customer questions sat in one inbox for days."
    aha = "Posting the question on the internal network got an answer in an hour."
    outcome = "Answers now come the same day."

    @factory.post_generation
    def themes(self, create, extracted, **kwargs):
        self.themes.set(extracted or ())

    @factory.post_generation
    def outcome_types(self, create, extracted, **kwargs):
        self.outcome_types.set(extracted or ())

    @factory.post_generation
    def people(self, create, extracted, **kwargs):
        self.people.set(extracted or ())

    @factory.post_generation
    def helpful_count(self, create, extracted, **kwargs):
        if not extracted:
            return
        User = get_user_model()
        voters = [User.objects.create(username=f"voter-{self.pk}-{n}") for n in range(extracted)]
        HelpfulVote.objects.bulk_create(HelpfulVote(story=self, user=voter) for voter in voters)
        self.helpful_count = extracted

    @factory.post_generation
    def publish(self, create, extracted, **kwargs):
        revision = self.save_revision()
        if extracted is None or extracted:
            revision.publish()
            self.refresh_from_db()


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
