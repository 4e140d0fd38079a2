"""A small library that answers questions about corrosion, its tellers, and an asker (Lena)."""

from __future__ import annotations

from dataclasses import dataclass

import factory
import pytest

from questions.models import Question, QuestionStatus
from search.backends import EMBEDDED
from search.sync import apply_pending_updates
from stories.models import Person, StoryPage, Theme, Visibility
from tests.factories import PersonFactory, StoryPageFactory, ThemeFactory, UserFactory

CORROSION_QUESTION = "Who knows how to stop corrosion on the cooling pumps?"


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question
        skip_postgeneration_save = True

    text = factory.Sequence(lambda n: f"Question number {n} about the quarterly report?")
    asker = factory.SubFactory(UserFactory)
    status = QuestionStatus.OPEN

    @factory.post_generation
    def themes(self, create, extracted, **kwargs):
        self.themes.set(extracted or ())


@dataclass
class CorrosionLibrary:
    materials: Theme
    expertise: Theme
    pumps: StoryPage  # told by Kim, Priya helped
    expert: StoryPage  # told by Lena (the asker), Omar helped
    staff_lab: StoryPage  # staff only
    kim: Person
    priya: Person
    omar: Person
    lena_person: Person


@pytest.fixture
def asker(db):
    return UserFactory(username="lena", first_name="Lena", last_name="Berg", email="lena@example.org")


@pytest.fixture
def colleague(db):
    return UserFactory(username="theo", first_name="Theo", email="theo@example.org")


@pytest.fixture
def corrosion_library(db, settings) -> CorrosionLibrary:
    settings.ELASTICSEARCH_URL = None
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    settings.WAGTAILADMIN_BASE_URL = "https://stories.example.org"
    materials = ThemeFactory(name="Materials")
    expertise = ThemeFactory(name="Expertise")
    unapproved = ThemeFactory(name="Pump lore", is_approved=False)
    kim = PersonFactory(name="Kim Lab", slug="kim-lab", email="kim@example.org")
    priya = PersonFactory(name="Priya Shah", slug="priya-shah", email="priya@example.org")
    omar = PersonFactory(name="Omar Field", slug="omar-field", email="omar@example.org")
    # Lena is in the directory by her e-mail address only, not linked to her account.
    lena_person = PersonFactory(name="Lena Berg", slug="lena-berg", email="lena@example.org")
    pumps = StoryPageFactory(
        title="Corrosion on the cooling pumps stopped with a coating",
        aha="The lab had solved pump corrosion years ago with a ceramic coating.",
        teller=kim,
        people=[priya],
        themes=[materials, unapproved],
    )
    expert = StoryPageFactory(
        title="The expert on corrosion was two floors up",
        aha="Asking the network found someone who knows corrosion of cooling water pipes, in an hour.",
        teller=lena_person,
        people=[omar],
        themes=[expertise],
    )
    staff_lab = StoryPageFactory(
        title="Inside the staff materials lab",
        aha="The lab keeps samples of every coating we ever tried.",
        visibility=Visibility.STAFF,
        themes=[materials],
    )
    StoryPageFactory(title="Invoices approved in one day", aha="Finance moved approvals online.")
    apply_pending_updates()
    return CorrosionLibrary(materials, expertise, pumps, expert, staff_lab, kim, priya, omar, lena_person)


@pytest.fixture
def asker_client(client, asker):
    client.force_login(asker)
    return client
