"""`{% page_sections "<place>" name=value %}`: render the sections other apps registered for a place."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join

from stories.sections import sections_for

register = template.Library()


@register.simple_tag(takes_context=True)
def page_sections(context, place: str, **objects) -> str:
    """Each section's template rendered with its own context only (and the page's autoescaping)."""
    request = context.get("request")
    if request is None:
        return ""
    engine = context.template.engine
    rendered = [
        (engine.get_template(section.template).render(context.new(section.context)),)
        for section in sections_for(place, request, **objects)
    ]
    return format_html_join("", "{}", rendered)
