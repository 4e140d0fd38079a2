"""Fixtures for the public story tests: a signed-in colleague, themes, an outcome type and people."""

import pytest
from django.test import Client

from tests.factories import OutcomeTypeFactory, PersonFactory, ThemeFactory, UserFactory


@pytest.fixture
def staff_user(db):
    return UserFactory(username="colleague")


@pytest.fixture
def signed_in_client(staff_user):
    """A second browser, signed in; the plain `client` fixture stays anonymous."""
    browser = Client()
    browser.force_login(staff_user)
    return browser


@pytest.fixture
def pricing(db):
    return ThemeFactory(name="Pricing", description="How we set and explain prices.")


@pytest.fixture
def onboarding(db):
    return ThemeFactory(name="Onboarding")


@pytest.fixture
def time_saved(db):
    return OutcomeTypeFactory(name="Time saved")


@pytest.fixture
def ada(db):
    return PersonFactory(name="Ada Lovelace", role="Analyst", team="Finance")


@pytest.fixture
def grace(db):
    return PersonFactory(name="Grace Hopper", role="Engineer", team="Engineering")
