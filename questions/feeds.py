"""Atom feeds of answered questions, all of them or per theme, each personal to one colleague.

Questions are for signed-in colleagues, and feed readers carry no session: a feed's address holds
a key signed for one user (a salt of its own), and the feed shows what that user may see now
(`questions.visibility`). The key of an account that is inactive or gone opens nothing (404), nor
does one the colleague replaced with a new address (an address shared by mistake).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.syndication.views import Feed
from django.core import signing
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from questions.answered import AnsweredQuestion, with_answers
from questions.models import FeedAddress, QuestionStatus
from questions.visibility import visible_questions
from stories.listing import approved_themes
from stories.models import Theme

FEED_KEY_SALT = "questions.answered-feed"
FEED_LENGTH = 20
FEED_KEY_NAMES = re.compile(r"(?P<user>[0-9]{1,18})(?:\.(?P<version>[1-9][0-9]{0,8}))?")


def feed_version(user) -> int:
    return FeedAddress.objects.filter(user=user).values_list("version", flat=True).first() or 0


def feed_key(user) -> str:
    """The signed key in a colleague's feed addresses: the same every time, so an address keeps
    working, until the colleague asks for a new one (`new_feed_address`)."""
    version = feed_version(user)
    named = str(user.pk) if version == 0 else f"{user.pk}.{version}"
    return signing.Signer(salt=FEED_KEY_SALT).sign(named)


def reader_for_feed_key(key: str):
    """The active user a key was signed for, or None for a key we did not sign, a key replaced by
    a newer one, or an account that is gone."""
    try:
        named = signing.Signer(salt=FEED_KEY_SALT).unsign(key)
    except signing.BadSignature:
        return None
    found = FEED_KEY_NAMES.fullmatch(named)
    if found is None:
        return None
    reader = get_user_model().objects.filter(pk=int(found["user"]), is_active=True).first()
    if reader is None or int(found["version"] or 0) != feed_version(reader):
        return None
    return reader


def new_feed_address(user) -> None:
    """Every feed address `user` was given opens nothing from now on; the board shows the new one."""
    with transaction.atomic():
        address, _ = FeedAddress.objects.select_for_update().get_or_create(user=user)
        address.version += 1
        address.save(update_fields=["version", "changed_at"])


def answered_feed_url(user, theme: Theme | None = None) -> str:
    """The path of `user`'s personal feed of answered questions (about `theme`, when given)."""
    if theme is None:
        return reverse("question_feeds:answered", args=[feed_key(user)])
    return reverse("question_feeds:answered_theme", args=[feed_key(user), theme.slug])


@dataclass(frozen=True)
class FeedScope:
    reader: object
    theme: Theme | None


class AnsweredQuestionsFeed(Feed):
    feed_type = Atom1Feed

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        # Personal: no shared cache may keep it, and its secret address stays out of search engines.
        response["Cache-Control"] = "private, max-age=300"
        response["X-Robots-Tag"] = "noindex"
        return response

    def get_object(self, request, key: str, slug: str = "") -> FeedScope:
        reader = reader_for_feed_key(key)
        if reader is None:
            raise Http404("No such feed")
        theme = None
        if slug:
            theme = approved_themes().filter(slug=slug).first()
            if theme is None:
                raise Http404("No such theme")
        return FeedScope(reader, theme)

    def title(self, scope: FeedScope) -> str:
        about = f" about {scope.theme.name}" if scope.theme else ""
        return f"Storybank: answered questions{about}"

    def link(self, scope: FeedScope) -> str:
        params = {"status": QuestionStatus.ANSWERED}
        if scope.theme:
            params["theme"] = scope.theme.slug
        return f"{reverse('questions:board')}?{urlencode(params)}"

    def subtitle(self, scope: FeedScope) -> str:
        about = f" about {scope.theme.name}" if scope.theme else ""
        return f"Questions colleagues asked the library{about}, newest answer first."

    def items(self, scope: FeedScope) -> list[AnsweredQuestion]:
        questions = visible_questions(scope.reader).filter(status=QuestionStatus.ANSWERED)
        if scope.theme:
            questions = questions.filter(themes=scope.theme)
        questions = questions.select_related("asker").prefetch_related("themes")
        return with_answers(questions.order_by("-answered_at", "-pk")[:FEED_LENGTH], scope.reader)

    def item_title(self, item: AnsweredQuestion) -> str:
        return item.question.short_text

    def item_description(self, item: AnsweredQuestion) -> str:
        parts = [item.question.text]
        if item.story:
            parts.append(f"Answered by the story “{item.story.title}”.")
        if item.written_answer:
            parts.append(f"{item.written_answer.author_name} answered: {item.written_answer.text}")
        return "\n\n".join(parts)

    def item_link(self, item: AnsweredQuestion) -> str:
        return item.question.get_absolute_url()

    def item_guid(self, item: AnsweredQuestion) -> str:
        return f"storybank-question-{item.question.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: AnsweredQuestion):
        return item.question.answered_at or item.question.created_at

    def item_updateddate(self, item: AnsweredQuestion):
        return item.question.answered_at or item.question.created_at

    def item_author_name(self, item: AnsweredQuestion) -> str:
        return item.question.asker_name

    def item_categories(self, item: AnsweredQuestion) -> list[str]:
        return [theme.name for theme in item.question.themes.all() if theme.is_approved]
