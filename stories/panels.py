"""Admin panels for the story editor: the clip plays beside the transcript editors correct."""

from __future__ import annotations

from dataclasses import dataclass

from wagtail.admin.panels import Panel

from stories.transcripts import LOW_CONFIDENCE, HeardWord


class ClipPlayerPanel(Panel):
    """Plays the story's clip in the editor; a segment's "Play" button jumps to its start time.

    The transcript segments themselves are edited in the InlinePanel that follows this panel;
    the script pairs each segment form with the player and highlights the one being spoken.
    """

    class BoundPanel(Panel.BoundPanel):
        template_name = "stories/admin/clip_player_panel.html"

        class Media:
            js = ["stories/js/admin_clip_player.js"]

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            clip = getattr(self.instance, "clip", None)
            context["clip"] = clip
            context["clip_url"] = clip_url(clip)
            return context


def clip_url(clip) -> str:
    """The URL the player streams from, or "" when the clip or its file is missing."""
    if clip is None or not clip.file:
        return ""
    try:
        return clip.file.url
    except ValueError:
        return ""


@dataclass(frozen=True)
class MarkedWord:
    """A heard word as the editor sees it: its <mark> classes, style and title, or none."""

    text: str
    classes: str = ""
    title: str = ""
    style: str = ""


# The admin loads none of the site's CSS: the marks carry their look inline.
VOCABULARY_STYLE = "text-decoration: underline dotted;"


def marked_word(word: HeardWord) -> MarkedWord:
    sure = f"{word.probability:.2f}"
    if word.is_unsure and word.vocabulary:
        return MarkedWord(
            word.text,
            "heard-word--unsure heard-word--vocabulary",
            f"Unsure ({sure}) and spelled from the directory",
            VOCABULARY_STYLE,
        )
    if word.is_unsure:
        return MarkedWord(word.text, "heard-word--unsure", f"Unsure: {sure}")
    if word.vocabulary:
        return MarkedWord(
            word.text,
            "heard-word--vocabulary",
            "Spelled from the directory",
            f"background: #dbe9ff; {VOCABULARY_STYLE}",
        )
    return MarkedWord(word.text)


class HeardWordsPanel(Panel):
    """Beside each transcript line in the editor: the words as the model heard them, the unsure ones
    (probability below LOW_CONFIDENCE) and those spelled from the directory's vocabulary marked, so
    an editor checks those first."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "stories/admin/heard_words_panel.html"

        def is_shown(self) -> bool:
            return bool(getattr(self.instance, "words", None))

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            words = [HeardWord.from_json(word) for word in self.instance.words or []]
            context["words"] = [marked_word(word) for word in words]
            context["unsure_count"] = sum(word.is_unsure for word in words)
            context["vocabulary_count"] = sum(word.vocabulary for word in words)
            context["edited"] = " ".join("".join(word.text for word in words).split()) != " ".join(
                (self.instance.text or "").split()
            )
            context["low_confidence_percent"] = round(LOW_CONFIDENCE * 100)
            return context
