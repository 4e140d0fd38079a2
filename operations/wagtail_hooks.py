"""Wagtail's own document downloads (/documents/<id>/<name>) ask the same visibility policy as /media/."""

from django.http import Http404
from wagtail import hooks

from stories.access import user_may_see_document


@hooks.register("before_serve_document")
def refuse_documents_of_hidden_stories(document, request):
    if not user_may_see_document(request.user, document):
        raise Http404("Not found")
