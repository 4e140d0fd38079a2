"""What capture announces, for apps that react to stories coming in (capture imports none of them)."""

from django.dispatch import Signal

# The share form saved a new draft and sent it to review. Sent with sender=StoryPage and `story`,
# `user` (the teller) and `origin`: the opaque reference the link that opened the form carried
# (`/share/?origin=…`), or "". Capture neither reads nor keeps the origin; whoever made the link
# signs it and checks it here, since a teller can type any value.
story_shared = Signal()
