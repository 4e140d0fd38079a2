"""WSGI entry point, used by gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storybank.settings")
application = get_wsgi_application()

# Load the embedding model in the background now, not on the first reader's question.
from search.embeddings import warm_up  # noqa: E402 (needs the app registry loaded above)

warm_up()
