"""Signals the stories app sends about changes its models' own save signals do not announce.

Rooms that keep copies of stories (the search index) listen; stories knows nothing of them.
"""

from django.dispatch import Signal

#: Sent with `story_ids` (a list of ints) after stories were written in bulk (an import, a bulk
#: edit) without their per-story signals, inside the writer's transaction: receivers that queue
#: work in the database commit or roll back with the stories themselves.
stories_written_in_bulk = Signal()
