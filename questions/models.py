"""A question a colleague brought to the library, and the people it was routed to.

Who may see a question is decided in `questions.visibility`; the models only hold it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.text import Truncator

from stories.models import Person, StoryPage, Theme
from stories.visibility import Visibility

MAX_QUESTION_LENGTH = 500
MAX_ANSWER_LENGTH = 5000
SHORT_QUESTION_WORDS = 12


class QuestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class QuestionSource(models.TextChoices):
    WEB = "web", "On the web"
    EMAIL = "email", "By e-mail"


class Question(models.Model):
    """A question in the asker's own words, open until a story answers it or it is closed."""

    text = models.TextField("the question", max_length=MAX_QUESTION_LENGTH)
    # SET_NULL, not PROTECT: an answered question stays useful to everyone after its asker leaves,
    # and a leaver's account must stay deletable.
    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="questions"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=10, choices=QuestionStatus.choices, default=QuestionStatus.OPEN)
    answered_by = models.ForeignKey(
        StoryPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="answered_questions"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    themes = models.ManyToManyField(Theme, blank=True, related_name="questions")
    # Only staff-only questions exist for now: signed-in colleagues see them, nobody else.
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.STAFF, editable=False
    )
    source = models.CharField(max_length=10, choices=QuestionSource.choices, default=QuestionSource.WEB)
    # Colleagues told when the question is answered, besides the asker (those of merged questions too).
    followers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="followed_questions"
    )
    # A question merged into another is closed and points there; its page sends readers on.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_questions"
    )
    # The question's sentence embedding (float32 bytes), for catching near-duplicates on the way in.
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    # Routed while some stories still waited for their vectors (the first minute after a fresh
    # setup, a large import): routed again once meaning search covers the library
    # (`questions.notifications.route_again_when_meaning_ready`).
    routed_before_meaning = models.BooleanField(default=False, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.short_text

    def get_absolute_url(self) -> str:
        return reverse("questions:detail", args=[self.pk])

    @property
    def short_text(self) -> str:
        """The question cut to a few words, for subjects and titles."""
        return Truncator(" ".join(self.text.split())).words(SHORT_QUESTION_WORDS, truncate="…")

    @property
    def is_open(self) -> bool:
        return self.status == QuestionStatus.OPEN

    @property
    def asker_name(self) -> str:
        if self.asker is None:
            return "A former colleague"
        return self.asker.get_full_name().strip() or self.asker.get_username()


class QuestionRouting(models.Model):
    """One person a question was sent to because their stories answer questions like it."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="routings")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="question_routings")
    routed_at = models.DateTimeField(auto_now_add=True)
    notified = models.BooleanField(default=False, help_text="An e-mail reached the mail server.")

    class Meta:
        ordering = ["routed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["question", "person"], name="one_routing_per_person_and_question")
        ]

    def __str__(self) -> str:
        return f"{self.question} → {self.person}"


class StoryInAnswer(models.Model):
    """A story told to answer a question, waiting for Editorial review.

    The question closes as answered by the story only when an editor publishes it
    (`questions.answering_stories`): a draft, or a story in review, never answers anything.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="stories_in_answer")
    story = models.ForeignKey(StoryPage, on_delete=models.CASCADE, related_name="told_in_answer")
    teller = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["question", "story"], name="one_link_per_question_and_story")
        ]

    def __str__(self) -> str:
        return f"{self.story} → {self.question}"


class RoutingOptOut(models.Model):
    """This person asked not to be sent questions: routing passes them by (set from the e-mail's link)."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="question_routing_opt_out")
    opted_out_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.person} is not sent questions"


class Answer(models.Model):
    """A colleague's written answer, given on the question's page or by replying to its e-mail.

    Seen by whoever may see the question. The asker may accept one: the question is then answered
    by it (`Question.answered_by` stays empty unless a story answered it).
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="question_answers",
    )
    text = models.TextField("the answer", max_length=MAX_ANSWER_LENGTH)
    source = models.CharField(max_length=10, choices=QuestionSource.choices, default=QuestionSource.WEB)
    created_at = models.DateTimeField(auto_now_add=True)
    accepted = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return Truncator(" ".join(self.text.split())).words(SHORT_QUESTION_WORDS, truncate="…")

    @property
    def author_name(self) -> str:
        if self.author is None:
            return "A former colleague"
        return self.author.get_full_name().strip() or self.author.get_username()


class HandledMail(models.Model):
    """A key recording that one piece of mail work was done, shared by every process that takes mail in.

    Keys: a received message (its Message-ID, hashed), so a redelivery stores nothing twice; a
    refusal sent to an address on a day, so an unknown sender is told at most once a day.
    """

    key = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    question = models.ForeignKey(Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.key


class DigestSent(models.Model):
    """One weekly digest sent (the ISO week, e.g. 2026-W49), so no week is sent twice by two workers.

    `finished_at` stays empty until every recipient's turn has come; a send cut off half-way (the
    worker killed) shows no progress for a while and is finished by the next worker.
    """

    week = models.CharField(max_length=10, unique=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0)
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Digest {self.week}"


class DigestDelivery(models.Model):
    """One colleague's copy of a week's digest, recorded before it is sent: a send resumed after a
    cut-off passes them by, so nobody gets the week's digest twice."""

    digest = models.ForeignKey(DigestSent, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["digest", "user"], name="one_digest_a_week_each")]

    def __str__(self) -> str:
        return f"{self.digest} to {self.user}"


class DigestOptOut(models.Model):
    """This colleague asked not to get the weekly digest (set from the digest's unsubscribe link)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_opt_out"
    )
    opted_out_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} gets no digest"


class QuestionMute(models.Model):
    """This colleague asked to hear no more about this question (the link in its e-mails); following it again undoes it."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="mutes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    muted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "user"], name="one_mute_per_user_and_question")
        ]

    def __str__(self) -> str:
        return f"{self.user} hears no more of {self.question}"


class FeedAddress(models.Model):
    """Which of a colleague's feed addresses is current: changing it (`version` + 1) makes every
    address given before open nothing, for a feed address shared by mistake. No row: version 0."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="feed_address"
    )
    version = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}'s feed address, version {self.version}"
