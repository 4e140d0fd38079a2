"""Written answers: on the question's page, or by replying to the routing e-mail; accepted by the asker."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from questions.asking import (
    accept_answer,
    answer_question,
    hear_no_more,
    post_question,
    suggest_answers,
    suggested_stories,
    write_answer,
)
from questions.evidence import accepted_answers_to_similar_questions
from questions.mail import Received, receive_message
from questions.models import (
    Answer,
    HandledMail,
    Question,
    QuestionMute,
    QuestionRouting,
    QuestionSource,
    QuestionStatus,
)
from questions.notifications import (
    notify_of_written_answer,
    notify_routed_people,
    resend_unsent_routings,
    routing_message_id,
)
from search.people import people_who_know
from tests.factories import PersonFactory, UserFactory
from tests.processes import free_port
from tests.questions.conftest import CORROSION_QUESTION, QuestionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(corrosion_library, asker, settings):
    settings.DEFAULT_FROM_EMAIL = "Storybank <storybank@stories.example.org>"
    settings.QUESTIONS_EMAIL_ADDRESS = "questions@stories.example.org"
    settings.QUESTIONS_ALLOWED_DOMAINS = ""
    return corrosion_library


@pytest.fixture
def kim_user(library):
    user = UserFactory(username="kim", first_name="Kim", last_name="Lab", email="kim@example.org")
    library.kim.user = user
    library.kim.save()
    return user


@pytest.fixture
def routed_question(library, asker, kim_user):
    """Lena's corrosion question, posted and e-mailed to the people who know (Kim among them)."""
    question, routed = post_question(CORROSION_QUESTION, asker)
    notify_routed_people(question, routed)
    return question


def routing_mail_to(address: str):
    [message] = [sent for sent in mail.outbox if sent.to == [address] and "asks:" in sent.subject]
    return message


def reply_to(original, *, sender: str, body: str, message_id: str = "<reply-1@mail.example.org>") -> bytes:
    """A reply as a mail program writes it: new words on top, the original quoted below."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = original.extra_headers["Reply-To"]
    reply["Subject"] = f"Re: {original.subject}"
    reply["Message-ID"] = message_id
    reply["In-Reply-To"] = original.extra_headers["Message-ID"]
    reply["References"] = original.extra_headers["Message-ID"]
    quoted = "\n".join(f"> {line}" for line in original.body.splitlines())
    reply.set_content(f"{body}\n\nOn Tue, 1 Dec 2026 at 10:00, Storybank wrote:\n{quoted}\n")
    return reply.as_bytes()


def test_the_routing_email_names_its_routing_and_asks_for_replies(routed_question):
    message = routing_mail_to("kim@example.org")
    routing = QuestionRouting.objects.get(question=routed_question, person__slug="kim-lab")

    assert message.extra_headers["Message-ID"] == routing_message_id(routing)
    assert message.extra_headers["Message-ID"].startswith(f"<storybank-routing.{routing.pk}.")
    assert message.extra_headers["Reply-To"] == "questions@stories.example.org"
    assert "Reply to this e-mail to answer" in message.body


def test_a_reply_to_the_routing_email_becomes_an_answer_without_the_quoted_mail(routed_question, asker):
    original = routing_mail_to("kim@example.org")
    mail.outbox.clear()

    outcome = receive_message(
        reply_to(
            original, sender="Kim Lab <kim@example.org>", body="Ask the lab for the ceramic coating spec."
        )
    )

    assert outcome.received is Received.ANSWER_STORED
    assert str(outcome) == f"answer stored #{routed_question.pk} from kim@example.org; replied"
    answer = Answer.objects.get()
    assert answer.question == routed_question
    assert answer.author.username == "kim"
    assert answer.text == "Ask the lab for the ceramic coating spec."
    assert answer.source == QuestionSource.EMAIL
    assert Question.objects.count() == 1  # not a new question
    # The asker is told; Kim gets a thank-you in the same thread, marked automatic.
    [to_asker] = [sent for sent in mail.outbox if sent.to == [asker.email]]
    assert to_asker.subject == f"New answer: {routed_question.short_text}"
    assert "Ask the lab for the ceramic coating spec." in to_asker.body
    assert "Accept it on the question's page" in to_asker.body
    [thanks] = [sent for sent in mail.outbox if sent.to == ["kim@example.org"]]
    assert thanks.extra_headers["In-Reply-To"] == "<reply-1@mail.example.org>"
    assert thanks.extra_headers["Auto-Submitted"] == "auto-replied"
    assert "your answer is posted" in thanks.body


def test_the_same_reply_delivered_twice_is_one_answer(routed_question):
    raw = reply_to(routing_mail_to("kim@example.org"), sender="kim@example.org", body="The lab knows.")

    assert receive_message(raw).received is Received.ANSWER_STORED
    assert receive_message(raw).received is Received.DUPLICATE
    assert Answer.objects.count() == 1
    assert HandledMail.objects.filter(key__startswith="received:").count() == 1


def test_a_colleague_the_routing_email_was_forwarded_to_may_answer(routed_question, colleague):
    raw = reply_to(
        routing_mail_to("kim@example.org"), sender="theo@example.org", body="Omar fixed this in 2024."
    )

    assert receive_message(raw).received is Received.ANSWER_STORED
    assert Answer.objects.get().author == colleague


def test_a_forged_routing_message_id_is_no_answer(routed_question):
    original = routing_mail_to("kim@example.org")
    routing = QuestionRouting.objects.get(question=routed_question, person__slug="kim-lab")
    original.extra_headers["Message-ID"] = f"<storybank-routing.{routing.pk}.{'0' * 32}@stories.example.org>"

    outcome = receive_message(reply_to(original, sender="kim@example.org", body="Sneaky words."))

    # Not signed by us: the mail is read as a new question from Kim, never as an answer.
    assert outcome.received is Received.STORED
    assert Answer.objects.count() == 0


def test_a_reply_to_an_answered_question_is_refused_with_the_reason(routed_question, library):
    routed_question.status = QuestionStatus.ANSWERED
    routed_question.answered_by = library.pumps
    routed_question.save()
    original = routing_mail_to("kim@example.org")
    mail.outbox.clear()

    outcome = receive_message(reply_to(original, sender="kim@example.org", body="Late, but: the lab."))

    assert outcome.received is Received.ANSWER_REFUSED
    assert Answer.objects.count() == 0
    [refusal] = mail.outbox
    assert refusal.to == ["kim@example.org"]
    assert "This question is already answered." in refusal.body


def test_a_reply_with_only_the_quote_posts_nothing_and_says_why(routed_question):
    original = routing_mail_to("kim@example.org")
    mail.outbox.clear()

    outcome = receive_message(reply_to(original, sender="kim@example.org", body=""))

    assert outcome.received is Received.EMPTY
    assert Answer.objects.count() == 0
    [refusal] = mail.outbox
    assert "no words of your own" in refusal.body


def test_an_answer_on_the_page_is_posted_and_the_asker_and_followers_are_told(
    routed_question, client, colleague, asker
):
    follower = UserFactory(username="ana", email="ana@example.org")
    routed_question.followers.add(follower)
    mail.outbox.clear()
    client.force_login(colleague)

    response = client.post(
        reverse("questions:write_answer", args=[routed_question.pk]), {"text": "Try the coating lab."}
    )

    answer = Answer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/questions/{routed_question.pk}/#answer-{answer.pk}"
    assert (answer.author, answer.text, answer.source) == (
        colleague,
        "Try the coating lab.",
        QuestionSource.WEB,
    )
    assert sorted(sent.to[0] for sent in mail.outbox) == ["ana@example.org", asker.email]
    page = client.get(routed_question.get_absolute_url()).content.decode()
    assert f'id="answer-{answer.pk}"' in page
    assert "Try the coating lab." in page


def test_an_empty_or_overlong_answer_is_a_400_that_says_why(routed_question, client, colleague):
    client.force_login(colleague)
    url = reverse("questions:write_answer", args=[routed_question.pk])

    empty = client.post(url, {"text": "  "})
    overlong = client.post(url, {"text": "x" * 5001})

    assert empty.status_code == 400
    assert "Write your answer first." in empty.content.decode()
    assert overlong.status_code == 400
    assert "Keep your answer under 5000 characters (it has 5001)." in overlong.content.decode()
    assert Answer.objects.count() == 0


def test_the_asker_accepts_an_answer_and_the_question_is_answered_by_it(
    routed_question, client, asker, colleague
):
    answer = Answer.objects.create(question=routed_question, author=colleague, text="The coating lab.")
    routed_question.followers.add(UserFactory(username="ana", email="ana@example.org"))
    mail.outbox.clear()
    client.force_login(asker)

    response = client.post(reverse("questions:accept", args=[routed_question.pk, answer.pk]))

    assert response.status_code == 302
    routed_question.refresh_from_db()
    answer.refresh_from_db()
    assert routed_question.status == QuestionStatus.ANSWERED
    assert routed_question.answered_at is not None
    assert routed_question.answered_by is None
    assert answer.accepted is True
    page = client.get(routed_question.get_absolute_url()).content.decode()
    assert f'Answered by <a href="#answer-{answer.pk}">Theo’s answer</a>' in page
    # Theo hears his answer was accepted; the follower that the question is answered.
    thanks, follower = sorted(mail.outbox, key=lambda sent: sent.to[0], reverse=True)
    assert thanks.to == ["theo@example.org"]
    assert "Lena Berg says your answer answers their question" in thanks.body
    assert follower.to == ["ana@example.org"]
    assert "A question you follow is answered." in follower.body
    assert "The coating lab." in follower.body


def test_only_the_asker_accepts(routed_question, client, colleague):
    answer = Answer.objects.create(question=routed_question, author=colleague, text="Me, me.")
    client.force_login(colleague)

    response = client.post(reverse("questions:accept", args=[routed_question.pk, answer.pk]))

    assert response.status_code == 403
    routed_question.refresh_from_db()
    assert routed_question.status == QuestionStatus.OPEN


def test_an_answer_of_another_question_cannot_be_accepted_here(routed_question, client, asker, colleague):
    other = QuestionFactory(asker=asker)
    answer = Answer.objects.create(question=other, author=colleague, text="Elsewhere.")
    client.force_login(asker)

    response = client.post(reverse("questions:accept", args=[routed_question.pk, answer.pk]))

    assert response.status_code == 404


def test_following_a_question_and_stopping(routed_question, client, colleague):
    client.force_login(colleague)
    url = reverse("questions:follow", args=[routed_question.pk])

    client.post(url)
    assert list(routed_question.followers.all()) == [colleague]
    client.post(url)
    assert list(routed_question.followers.all()) == []


def test_a_merged_questions_page_sends_the_reader_to_the_one_it_was_merged_into(asker_client, asker):
    target = QuestionFactory(asker=asker)
    merged = QuestionFactory(asker=asker, status=QuestionStatus.CLOSED)
    merged.merged_into = target
    merged.save()

    response = asker_client.get(merged.get_absolute_url())

    assert response.status_code == 302
    assert response["Location"] == target.get_absolute_url()


def test_anonymous_readers_can_neither_answer_nor_follow(routed_question, client):
    for name, args in (("write_answer", [routed_question.pk]), ("follow", [routed_question.pk])):
        response = client.post(reverse(f"questions:{name}", args=args), {"text": "Hello"})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    assert Answer.objects.count() == 0
    assert routed_question.followers.count() == 0


def test_similar_questions_are_shown_when_asking_again(library, asker_client, asker, meaning_search):
    earlier, _ = post_question(CORROSION_QUESTION, asker)
    QuestionFactory(text="How do I book the big meeting room?", asker=asker)

    response = asker_client.get(
        reverse("questions:ask"), {"q": "Our cooling pumps are corroding: who can help?"}
    )

    similar = response.context["similar_questions"]
    assert [item.question for item in similar] == [earlier]
    assert similar[0].score > 0.45
    assert "Someone asked this before" in response.content.decode()


@pytest.fixture
def theo_answered_earlier(library, asker, colleague, meaning_search):
    """An earlier corrosion question, answered by Theo's written answer that Lena accepted."""
    PersonFactory(name="Theo Bold", slug="theo-bold", email="theo@example.org")
    earlier, _ = post_question(CORROSION_QUESTION, asker)
    answer = Answer.objects.create(question=earlier, author=colleague, text="Omar knows; ask him.")
    accept_answer(earlier, answer, asker)
    return earlier


def test_an_accepted_answer_to_a_similar_question_counts_as_knowing(theo_answered_earlier, asker):
    people = people_who_know("Our cooling pumps are corroding: who can help?", asker)

    [theo] = [candidate for candidate in people if candidate.person.slug == "theo-bold"]
    assert [(item.role, item.url, item.rank) for item in theo.evidence] == [
        ("answered", theo_answered_earlier.get_absolute_url(), 1)
    ]


def test_accepted_answers_are_no_evidence_for_anonymous_readers(
    theo_answered_earlier, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert (
            accepted_answers_to_similar_questions("Our cooling pumps are corroding: who can help?", None)
            == []
        )
    people = people_who_know("Our cooling pumps are corroding: who can help?", AnonymousUser())
    assert "theo-bold" not in [candidate.person.slug for candidate in people]


def test_asking_again_shows_the_earlier_answer_first(theo_answered_earlier, asker_client):
    response = asker_client.get(
        reverse("questions:ask"), {"q": "Our cooling pumps are corroding: who can help?"}
    )

    [similar] = response.context["similar_questions"]
    assert similar.question == theo_answered_earlier
    assert similar.accepted.text == "Omar knows; ask him."
    assert "answered by Theo’s answer" in response.content.decode()


def test_a_story_that_answered_a_question_like_it_comes_first(library, asker, meaning_search):
    text = "Who can help with corroding cooling pumps and pipes?"
    plain = [result.story.pk for result in suggested_stories(text, asker).results]
    assert plain.index(library.expert.pk) > 0  # the search alone ranks another story first
    earlier, _ = post_question(CORROSION_QUESTION, asker)
    answer_question(earlier, library.expert, asker)

    suggestions = suggest_answers(text, asker)

    assert [item.question for item in suggestions.similar] == [earlier]
    ranked = [result.story.pk for result in suggestions.search.results]
    assert ranked[0] == library.expert.pk
    assert sorted(ranked) == sorted(plain)  # moved up, nothing added or lost


def test_routing_emails_the_mail_server_refused_are_sent_again_by_the_worker(library, asker, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    question, routed = post_question(CORROSION_QUESTION, asker)
    assert notify_routed_people(question, routed) == 0
    assert not QuestionRouting.objects.filter(notified=True).exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    later = timezone.now() + timedelta(minutes=11)

    assert resend_unsent_routings(now=timezone.now()) == 0  # too soon: the request may still be sending
    sent = resend_unsent_routings(now=later)

    assert sent == len(routed) > 0
    assert set(QuestionRouting.objects.values_list("notified", flat=True)) == {True}
    kim = routing_mail_to("kim@example.org")
    assert "you told “Corrosion on the cooling pumps stopped with a coating”" in kim.body
    assert resend_unsent_routings(now=later) == 0  # sent once


def test_nobody_accepts_their_own_answer(routed_question, client, asker):
    own = Answer.objects.create(question=routed_question, author=asker, text="Found it myself: the lab.")
    client.force_login(asker)

    page = client.get(routed_question.get_absolute_url()).content.decode()
    response = client.post(reverse("questions:accept", args=[routed_question.pk, own.pk]))

    assert f'action="/questions/{routed_question.pk}/answers/{own.pk}/accept/"' not in page
    assert response.status_code == 403
    routed_question.refresh_from_db()
    assert routed_question.is_open


def test_a_deactivated_asker_is_not_emailed_answers(routed_question, asker, colleague):
    asker.is_active = False
    asker.save()
    mail.outbox.clear()

    answer = write_answer(routed_question, "The coating lab.", colleague)

    assert notify_of_written_answer(routed_question, answer) == 0
    assert mail.outbox == []


def test_a_reply_to_a_routing_left_on_a_merged_question_answers_the_one_it_was_merged_into(
    routed_question, asker
):
    original = routing_mail_to("kim@example.org")
    target = QuestionFactory(asker=asker)
    Question.objects.filter(pk=routed_question.pk).update(status=QuestionStatus.CLOSED, merged_into=target)

    outcome = receive_message(reply_to(original, sender="kim@example.org", body="Ask the coating lab."))

    assert outcome.received is Received.ANSWER_STORED
    assert Answer.objects.get().question == target


def test_every_answer_email_has_a_link_to_hear_no_more_of_the_question(
    routed_question, client, asker, colleague
):
    mail.outbox.clear()
    answer = write_answer(routed_question, "The coating lab.", colleague)
    notify_of_written_answer(routed_question, answer)
    [to_asker] = mail.outbox
    url = to_asker.extra_headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://stories.example.org/questions/quiet/")
    assert f"No more e-mails about this question: {url}" in to_asker.body
    path = url.removeprefix("https://stories.example.org")

    looked = client.get(path)  # a mail scanner opening the link changes nothing
    assert looked.status_code == 200
    assert not QuestionMute.objects.exists()
    assert client.post(path).status_code == 200
    assert QuestionMute.objects.filter(question=routed_question, user=asker).exists()

    mail.outbox.clear()
    later = write_answer(routed_question, "Or Omar.", colleague)
    assert notify_of_written_answer(routed_question, later) == 0


def test_following_again_undoes_hearing_no_more(routed_question, client, colleague):
    hear_no_more(routed_question, colleague)
    client.force_login(colleague)

    client.post(reverse("questions:follow", args=[routed_question.pk]))

    assert not QuestionMute.objects.exists()
    assert list(routed_question.followers.all()) == [colleague]


def test_a_mute_link_we_did_not_sign_is_a_400(client):
    response = client.post("/questions/quiet/not-a-token/")

    assert response.status_code == 400
    assert "This link is not one Storybank sent" in response.content.decode()
