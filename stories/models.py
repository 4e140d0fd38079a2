"""The aha-story model: people, themes, outcome types, stories, clips and transcripts.

Visibility is decided in `stories.visibility`; `StoryPage.objects.visible_to(user)` and
`StoryPage.is_visible_to(user)` are its doors for pages, listings, feeds, the API and search.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Length, Substr
from django.http import Http404
from django.utils.functional import classproperty
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase
from wagtail import blocks
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
    TitleFieldPanel,
)
from wagtail.api import APIField
from wagtail.embeds.blocks import EmbedBlock
from wagtail.fields import StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Orderable, Page, PageManager, PageViewRestriction
from wagtail.query import PageQuerySet
from wagtail.search import index

from stories import schema
from stories.panels import ClipPlayerPanel, HeardWordsPanel
from stories.slugs import free_slug
from stories.visibility import Visibility, openable_stories, readable_stories

PageContext = Callable[..., dict]
_page_contexts: dict[str, PageContext] = {}


def provide_page_context(page_class: type[Page], build: PageContext) -> None:
    """Register `build(request, page)`: what `page_class`'s template shows besides the page itself.

    The contexts are assembled from these models (`stories.listing`), so the models cannot import
    them; `stories.apps` registers them when the app starts.
    """
    _page_contexts[page_class._meta.label_lower] = build


def page_context(page: Page, request) -> dict:
    return _page_contexts[page._meta.label_lower](request, page)


def unique_slug(model: type[models.Model], name: str, *, instance_pk=None) -> str:
    """A slug for `name` that no other row of `model` uses (name-2, name-3, …)."""
    others = model.objects.exclude(pk=instance_pk)
    return free_slug(name, lambda slug: others.filter(slug=slug).exists())


class SluggedSnippet(index.Indexed, models.Model):
    """A named, slugged vocabulary item (theme, outcome type)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, blank=True)
    description = models.TextField(blank=True)

    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description")]

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(type(self), self.name, instance_pk=self.pk)
        super().save(*args, **kwargs)


class Theme(SluggedSnippet):
    """What a story is about. Staff may propose a theme; it waits for an editor's approval."""

    is_approved = models.BooleanField(
        default=True, help_text="Proposed themes stay unapproved until an editor approves them."
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    search_fields = SluggedSnippet.search_fields + [index.FilterField("is_approved")]

    panels = SluggedSnippet.panels + [
        MultiFieldPanel(
            [FieldPanel("is_approved"), FieldPanel("proposed_by", read_only=True)],
            heading="Approval",
        )
    ]

    def get_absolute_url(self) -> str:
        return f"/themes/{self.slug}/"


class OutcomeType(SluggedSnippet):
    """The kind of difference a story made: time saved, expert found, revenue won…"""

    def get_absolute_url(self) -> str:
        return f"/outcomes/{self.slug}/"


class PersonStrength(TaggedItemBase):
    content_object = ParentalKey("stories.Person", related_name="tagged_strengths", on_delete=models.CASCADE)


class Person(index.Indexed, ClusterableModel):
    """Someone who tells stories or helps in them; may be linked to a user account."""

    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True, blank=True)
    email = models.EmailField(blank=True, null=True, unique=True)
    role = models.CharField(max_length=150, blank=True)
    team = models.CharField(max_length=150, blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bio = models.TextField(blank=True)
    strengths = TaggableManager(through=PersonStrength, blank=True, help_text="Self-declared expertise.")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    needs_review = models.BooleanField(
        default=False, help_text="Added from a staff submission; an editor should check the details."
    )

    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.SearchField("team"),
        index.SearchField("role"),
        index.FilterField("needs_review"),
    ]

    panels = [
        FieldPanel("name"),
        FieldRowPanel([FieldPanel("role"), FieldPanel("team")]),
        FieldRowPanel([FieldPanel("email"), FieldPanel("slug")]),
        FieldPanel("photo"),
        FieldPanel("bio"),
        FieldPanel("strengths"),
        MultiFieldPanel(
            [FieldPanel("user"), FieldPanel("needs_review")],
            heading="Account and review",
        ),
    ]

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.email == "":
            self.email = None
        if not self.slug:
            self.slug = unique_slug(Person, self.name, instance_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return f"/people/{self.slug}/"

    @classmethod
    def for_user(cls, user) -> Person:
        """The person who is this user, created (and linked) on first use."""
        person = cls.objects.filter(user=user).first()
        if person is None:
            name = user.get_full_name().strip() or user.get_username()
            email = user.email or None
            if email and cls.objects.filter(email=email, user__isnull=True).exists():
                person = cls.objects.get(email=email)
                person.user = user
                person.save(update_fields=["user"])
            else:
                person = cls.objects.create(name=name, email=email, user=user)
        return person


class Clip(models.Model):
    """A recorded or uploaded audio/video file behind a story. The file is never deleted with a draft."""

    class MediaKind(models.TextChoices):
        AUDIO = "audio", "Audio"
        VIDEO = "video", "Video"

    file = models.FileField(upload_to="clips/", max_length=255)
    media_kind = models.CharField(max_length=10, choices=MediaKind.choices, default=MediaKind.AUDIO)
    content_type = models.CharField(max_length=100, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    poster = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=16, blank=True)
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the stored file.")
    original_name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.original_name or self.file.name

    @property
    def is_video(self) -> bool:
        return self.media_kind == self.MediaKind.VIDEO


class StoryIndexPage(Page):
    """The library: the parent of every story, listed at /stories/."""

    intro = models.TextField(blank=True)

    subpage_types = ["stories.StoryPage"]
    parent_page_types = ["home.HomePage"]
    max_count = 1

    @classmethod
    def get_library(cls) -> StoryIndexPage:
        """The one library (there is at most one); every story is filed under it."""
        return cls.objects.get()

    def route(self, request, path_components):
        """A story's address reads it in one query, as a story (Wagtail reads the page, then the story).

        Anything else under the library, and any address that names no story, routes as Wagtail's does.
        """
        if path_components:
            try:
                story = StoryPage.objects.child_of(self).get(slug=path_components[0])
            except StoryPage.DoesNotExist:
                return super().route(request, path_components)
            story._cached_parent_obj = self  # as Wagtail's route does: the story's parent is known
            return story.route(request, path_components[1:])
        return super().route(request, path_components)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(page_context(self, request))
        return context


class Source(models.TextChoices):
    FORM = "form", "Web form"
    VOICE = "voice", "Voice clip"
    VIDEO = "video", "Video clip"
    IMPORT = "import", "Import"
    ADMIN = "admin", "Written by an editor"


class StoryPageQuerySet(PageQuerySet):
    def private_q(self) -> Q:
        """Wagtail's private sections (pages under a view restriction), decided inside the query itself.

        Wagtail reads every restriction first, one query each time a listing asks; a story page asks
        several times. This EXISTS is the same rule: a restricted page whose path starts this one's.
        """
        restricted_ancestors = PageViewRestriction.objects.filter(
            page__path=Substr(OuterRef("path"), 1, Length("page__path"))
        )
        return Q(Exists(restricted_ancestors))

    def visible_to(self, user) -> StoryPageQuerySet:
        """Published stories this user may read (the rule lives in `stories.visibility`)."""
        return readable_stories(self, user)

    def openable_by(self, user) -> StoryPageQuerySet:
        """Stories whose content this user may see in any state (drafts too, for their owner and editors)."""
        return openable_stories(self, user)


StoryPageManager = PageManager.from_queryset(StoryPageQuerySet)


def publishing_requested(data) -> bool:
    """Whether an admin page form was posted to publish: "Publish", or approving its review."""
    if data.get("action-publish"):
        return True
    return bool(data.get("action-workflow-action")) and data.get("workflow-action-name") == "approve"


class StoryPageForm(WagtailAdminPageForm):
    """The story editor's form: drafts save freely; publishing must pass `StoryPage.publish_problems`."""

    def clean(self):
        cleaned_data = super().clean()
        if publishing_requested(self.data):
            problems = self.instance.publish_problems_by_field(
                themes=cleaned_data.get("themes") or [],
                consent=bool(cleaned_data.get("consent")),
            )
            for field_name, message in problems.items():
                self.add_error(field_name if field_name in self.fields else None, message)
        return cleaned_data


class StoryPage(Page):
    """One aha story: the situation, the moment someone realised something, and what changed."""

    teller = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="stories_told"
    )
    people = ParentalManyToManyField(Person, blank=True, related_name="stories_helped")
    themes = ParentalManyToManyField(Theme, blank=True, related_name="stories")
    outcome_types = ParentalManyToManyField(OutcomeType, blank=True, related_name="stories")
    context = models.TextField("the situation", blank=True)
    aha = models.TextField("the aha moment", blank=True)
    outcome = models.TextField("what changed", blank=True)
    impact_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    impact_unit = models.CharField(max_length=60, blank=True, help_text='For example "days saved".')
    occurred_on = models.DateField("when it happened", null=True, blank=True)
    body = StreamField(
        [
            ("paragraph", blocks.RichTextBlock(features=["bold", "italic", "link", "ol", "ul"])),
            (
                "quote",
                blocks.StructBlock(
                    [("quote", blocks.TextBlock()), ("attribution", blocks.CharBlock(required=False))]
                ),
            ),
            (
                "image",
                blocks.StructBlock(
                    [("image", ImageChooserBlock()), ("caption", blocks.CharBlock(required=False))]
                ),
            ),
            ("embed", EmbedBlock()),
        ],
        blank=True,
        use_json_field=True,
    )
    cover_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ADMIN)
    clip = models.ForeignKey(Clip, null=True, blank=True, on_delete=models.SET_NULL, related_name="stories")
    consent = models.BooleanField(
        "the teller agreed to publish", default=False, help_text="Required before publishing."
    )
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    featured = models.BooleanField(default=False, help_text="Show on the home page.")
    helpful_count = models.PositiveIntegerField(default=0, editable=False)
    external_id = models.CharField(max_length=100, blank=True, db_index=True, help_text="Set by imports.")

    objects = StoryPageManager()

    base_form_class = StoryPageForm

    content_panels = [
        TitleFieldPanel("title"),
        MultiFieldPanel(
            [
                FieldPanel(story_field.name)
                for story_field in schema.story_fields()
                if story_field.kind == schema.Kind.TEXT
            ],
            heading="The story",
            help_text="The situation, the moment someone realised something, and what changed.",
        ),
        FieldRowPanel(
            [FieldPanel("impact_value"), FieldPanel("impact_unit")],
            heading="Impact",
            help_text='A number and its unit, for example "12" and "days saved".',
        ),
        FieldPanel("occurred_on"),
        FieldPanel("body"),
        FieldPanel("cover_image"),
    ]
    people_panels = [
        FieldPanel("teller"),
        FieldPanel("people", widget=forms.SelectMultiple(attrs={"size": 8})),
        FieldPanel("themes", widget=forms.CheckboxSelectMultiple),
        FieldPanel("outcome_types", widget=forms.CheckboxSelectMultiple),
    ]
    media_panels = [
        FieldPanel("clip", read_only=True),
        ClipPlayerPanel(heading="Listen while you correct"),
        InlinePanel("transcript_segments", heading="Transcript", label="Segment"),
    ]
    story_settings_panels = [
        MultiFieldPanel(
            [FieldPanel("consent"), FieldPanel("visibility"), FieldPanel("featured"), FieldPanel("source")],
            heading="Consent and visibility",
        ),
        FieldPanel("external_id", read_only=True),
    ]
    edit_handler = TabbedInterface(
        [
            ObjectList(content_panels, heading="Story"),
            ObjectList(people_panels, heading="People & themes"),
            ObjectList(media_panels, heading="Media & transcript"),
            ObjectList(
                story_settings_panels + Page.promote_panels + Page.settings_panels,
                heading="Settings",
                classname="settings",
            ),
        ],
        base_form_class=StoryPageForm,
    )

    @classproperty
    def api_fields(cls) -> list[APIField]:
        """What the pages API shows, read from `stories.schema` on every request."""
        return [APIField(name) for name in schema.api_names()]

    parent_page_types = ["stories.StoryIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "story"
        verbose_name_plural = "stories"

    def serve(self, request, *args, **kwargs):
        """Staff-only stories send anonymous readers to sign in; drafts are never served live.

        Whether this reader may read the story is decided by the visibility rule in the one load
        of the stories the page shows (its context's "readable"), before anything is rendered.
        """
        # django.contrib.auth.views reads the user model when imported, which models cannot do.
        from django.contrib.auth.views import redirect_to_login

        if not self.live:
            raise Http404
        response = super().serve(request, *args, **kwargs)  # rendered only once returned
        if not response.context_data.get("readable", False):
            return redirect_to_login(request.get_full_path())
        return response

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(page_context(self, request))
        return context

    def is_visible_to(self, user) -> bool:
        return StoryPage.objects.visible_to(user).filter(pk=self.pk).exists()

    def publish_problems(self, *, themes=None, consent: bool | None = None) -> list[str]:
        """Why this story may not be published yet; empty when it may.

        The one rule behind the editor's "Publish", approving its review, bulk publishing and
        imports. `themes`/`consent` check values not saved yet (an editor's form).
        """
        return list(self.publish_problems_by_field(themes=themes, consent=consent).values())

    def publish_problems_by_field(self, *, themes=None, consent: bool | None = None) -> dict[str, str]:
        """`publish_problems`, keyed by the field an editor must change."""
        themes = list(self.themes.all()) if themes is None else list(themes)
        consent = self.consent if consent is None else consent
        problems = {}
        if not themes:
            problems["themes"] = "Choose at least one theme before publishing: readers find stories by theme."
        if not consent:
            problems["consent"] = (
                "Tick “the teller agreed to publish” before publishing: "
                "no story goes live without its teller's consent."
            )
        return problems

    def get_sitemap_urls(self, request=None):
        """Only public stories go in the sitemap."""
        if self.visibility != Visibility.PUBLIC:
            return []
        return super().get_sitemap_urls(request)

    @property
    def teller_name(self) -> str:
        return self.teller.name if self.teller else ""

    @property
    def people_names(self) -> list[str]:
        return [person.name for person in self.people.all()]

    @property
    def theme_names(self) -> list[str]:
        """Approved themes only: a proposed theme is not shown until an editor approves it."""
        return [theme.name for theme in self.themes.all() if theme.is_approved]

    @property
    def outcome_names(self) -> list[str]:
        return [outcome.name for outcome in self.outcome_types.all()]

    @property
    def impact(self) -> str:
        if self.impact_value is None:
            return ""
        value = self.impact_value.normalize()
        return f"{value:f} {self.impact_unit}".strip()

    @property
    def transcript_text(self) -> str:
        return " ".join(segment.text.strip() for segment in self.transcript_segments.all())


class TranscriptSegment(Orderable):
    """One timed line of a clip's transcript; editors correct the text in the admin."""

    story = ParentalKey(StoryPage, related_name="transcript_segments", on_delete=models.CASCADE)
    start = models.FloatField(help_text="Seconds from the start of the clip.")
    end = models.FloatField(help_text="Seconds from the start of the clip.")
    text = models.TextField()
    speaker = models.CharField(
        max_length=80, blank=True, help_text="Who speaks, in a two-microphone interview."
    )
    words = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="The words as heard: [start, end, word, probability, spelled by the vocabulary].",
    )

    panels = [
        FieldPanel("start"),
        FieldPanel("end"),
        FieldPanel("speaker"),
        FieldPanel("text"),
        HeardWordsPanel(heading="As heard"),
    ]

    def __str__(self) -> str:
        return f"{self.start:.1f}–{self.end:.1f}: {self.text[:40]}"


class HelpfulVote(models.Model):
    """One signed-in reader said "this helped me" about one story."""

    story = models.ForeignKey(StoryPage, on_delete=models.CASCADE, related_name="helpful_votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["story", "user"], name="one_helpful_vote_per_user")]
