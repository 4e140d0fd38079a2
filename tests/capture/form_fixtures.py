"""Shared pieces for the share-form tests: the review workflow, a filled-in form, generated images."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from wagtail.models import GroupApprovalTask, Workflow, WorkflowPage, WorkflowTask

from stories.workflow import EDITORIAL_REVIEW
from tests.factories import UserFactory, library


@pytest.fixture
def editorial_review(db) -> Workflow:
    """The "Editorial review" workflow: the migration's when present, else built the same way here."""
    workflow = Workflow.objects.filter(name=EDITORIAL_REVIEW, active=True).first()
    if workflow is None:
        editors, _ = Group.objects.get_or_create(name="Editors")
        task = GroupApprovalTask.objects.create(name="Editor approval")
        task.groups.set([editors])
        workflow = Workflow.objects.create(name=EDITORIAL_REVIEW, active=True)
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
        WorkflowPage.objects.create(workflow=workflow, page=library())
    return workflow


@pytest.fixture
def teller(db):
    return UserFactory(first_name="Ana", last_name="Lima")


@pytest.fixture
def teller_client(client, teller, editorial_review):
    client.force_login(teller)
    return client


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", is_staff=True, is_superuser=True, groups=["Editors"])


def story_data(**overrides) -> dict:
    """A complete, valid share form submission."""
    data = {
        "title": "One message to research saved a week",
        "context": "We were stuck rebuilding a pricing model nobody on the team understood.",
        "aha": "I asked on the research channel and learned Priya had built it two years ago.",
        "outcome": "She walked us through it in an hour and we shipped the change that week.",
        "impact_value": "5",
        "impact_unit": "days saved",
        "occurred_on": "2026-03-14",
        "visibility": "public",
        "consent": "on",
        "new_themes": "Asking for help",
        "new_people": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def image_bytes(format: str = "PNG", size=(64, 48), mode: str = "RGB", color="orange") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=format)
    return buffer.getvalue()


def image_upload(name: str = "cover.png", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(**kwargs), content_type="image/png")
