"""Context for the public pages: home, library and story. Visibility comes from StoryPage.objects.visible_to."""

from stories.models import StoryPage


def home_context(request) -> dict:
    return {"recent_stories": StoryPage.objects.visible_to(request.user).order_by("-first_published_at")[:6]}


def library_context(request, library) -> dict:
    return {"stories": StoryPage.objects.visible_to(request.user).order_by("-first_published_at")}


def story_context(request, story) -> dict:
    return {}
