"""A person may ask not to be sent questions, from the routing e-mail, without signing in."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from questions.models import Question, QuestionRouting, RoutingOptOut
from questions.signed_links import ROUTING_OPT_OUT
from tests.questions.conftest import CORROSION_QUESTION

pytestmark = pytest.mark.django_db

POST = reverse("questions:post")


def test_an_opted_out_person_is_never_routed_and_the_next_best_is_asked(
    asker_client, corrosion_library, settings
):
    settings.QUESTIONS_ROUTE_TO = 2
    RoutingOptOut.objects.create(person=corrosion_library.kim)

    asker_client.post(POST, {"q": CORROSION_QUESTION})

    routed = set(QuestionRouting.objects.values_list("person__name", flat=True))
    assert routed == {"Priya Shah", "Omar Field"}
    assert "kim@example.org" not in [address for message in mail.outbox for address in message.to]


def routing_mail_link(to: str) -> str:
    message = next(message for message in mail.outbox if message.to == [to])
    [link] = re.findall(r"https://stories\.example\.org/questions/stop/[^/\s]+/", message.body)
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'href="{link}"' in message.alternatives[0][0]
    return link.removeprefix("https://stories.example.org")


def test_the_link_in_the_routing_email_stops_routing_without_signing_in(
    asker_client, corrosion_library, settings
):
    settings.QUESTIONS_ROUTE_TO = 1
    asker_client.post(POST, {"q": CORROSION_QUESTION})
    link = routing_mail_link("kim@example.org")
    client = Client()  # whoever holds the e-mail, not signed in

    confirm = client.get(link)
    assert confirm.status_code == 200
    assert "Stop sending questions to Kim Lab?" in confirm.content.decode()
    assert RoutingOptOut.objects.count() == 0  # opening the link (or a mail scanner doing so) changes nothing

    done = client.post(link)
    assert done.status_code == 200
    assert "Done: no more questions" in done.content.decode()
    assert list(RoutingOptOut.objects.values_list("person__name", flat=True)) == ["Kim Lab"]

    again = client.post(link)
    assert again.status_code == 200
    assert RoutingOptOut.objects.count() == 1
    assert "You are not sent questions" in client.get(link).content.decode()

    Question.objects.all().delete()
    asker_client.post(POST, {"q": CORROSION_QUESTION})
    assert list(QuestionRouting.objects.values_list("person__name", flat=True)) == ["Priya Shah"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_changed_token_is_refused_and_stops_nothing(client, corrosion_library, method):
    token = ROUTING_OPT_OUT.token(corrosion_library.kim.pk)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_person = f"{corrosion_library.priya.pk}{token[token.index(':') :]}"

    for changed in (tampered, other_person, "not-a-token"):
        response = getattr(client, method)(reverse("questions:stop_routing", args=[changed]))
        assert response.status_code == 400
        assert "This link is not one Storybank sent" in response.content.decode()
    assert RoutingOptOut.objects.count() == 0
