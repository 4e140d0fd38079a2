"""Browser journeys: skipped, with the reason, on a machine without Debian's Chromium.

The fixtures they use (the live Storybank, Chromium, pages) are in tests/browser_harness.py.
"""

from pathlib import Path

import pytest

from tests.browser_harness import CHROMIUM, chromium_installed

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    if chromium_installed():
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' package")
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(skip)
