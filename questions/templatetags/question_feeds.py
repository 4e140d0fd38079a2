"""{% answered_feed_url theme %}: the signed-in reader's personal feed of answered questions."""

from __future__ import annotations

from django import template

from questions.feeds import answered_feed_url
from stories.visibility import is_signed_in

register = template.Library()


@register.simple_tag(takes_context=True, name="answered_feed_url")
def reader_answered_feed_url(context, theme=None) -> str:
    """The path of the reader's own feed (about `theme`, when one is chosen); empty for anonymous readers."""
    user = context["request"].user
    return answered_feed_url(user, theme) if is_signed_in(user) else ""
