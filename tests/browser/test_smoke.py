"""The live system comes up and the front door renders in Chromium."""

import pytest

from tests.browser_harness import axe_violations, snap

pytestmark = pytest.mark.browser


def test_home_page_renders_with_search_box(page, artifacts):
    page.goto("/")
    assert page.get_by_role("search").count() >= 1
    snap(page, artifacts, "home-desktop")


def test_login_page_has_no_serious_accessibility_violations(page):
    page.goto("/accounts/login/")
    assert axe_violations(page) == []
