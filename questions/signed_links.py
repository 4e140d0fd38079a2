"""Links in e-mails that act without a sign-in: stop sending me questions, stop the digest, no more
e-mails about this question.

The token is the permission: a few ids signed with the link's own salt, so a token made for one
link is refused by the others. It never expires (an unsubscribe link must work years later).
Every such page behaves the same (`confirm_then_act`): GET asks to confirm, because a mail
scanner opening the link must change nothing; POST acts, once; a token we did not sign is a 400.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods


@dataclass(frozen=True)
class SignedLink:
    salt: str
    url_name: str
    parts: int = 1  # how many ids the token carries

    def token(self, *ids: int) -> str:
        return signing.dumps(ids[0] if self.parts == 1 else list(ids), salt=self.salt)

    def path(self, *ids: int) -> str:
        return reverse(self.url_name, args=[self.token(*ids)])

    def ids(self, token: str) -> tuple[int, ...]:
        """The ids a token was made for; raises signing.BadSignature for a token of anything else."""
        named = signing.loads(token, salt=self.salt)
        named = [named] if self.parts == 1 else named
        if not (
            isinstance(named, list) and len(named) == self.parts and all(isinstance(i, int) for i in named)
        ):
            raise signing.BadSignature("Not a token of this link.")
        return tuple(named)


ROUTING_OPT_OUT = SignedLink("questions.routing-opt-out", "questions:stop_routing")
QUESTION_MUTE = SignedLink("questions.question-mute", "questions:mute", parts=2)
DIGEST_OPT_OUT = SignedLink("questions.digest-opt-out", "question_feeds:stop_digest")


def confirm_then_act(
    link: SignedLink,
    template: str,
    *,
    load: Callable[..., dict],
    act: Callable[..., object],
    done: Callable[..., bool],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """The view behind a signed link.

    `load(*ids)` gives the template's objects by name (or raises Http404); `act(*objects)` does
    what the link says and `done(*objects)` says whether it is done already, both given the
    objects in that order. The template gets the objects, `done`, `just_confirmed` (this request
    did it) and `invalid` (a token we did not sign). Never name an object `user`: that name is
    the signed-in reader's in every template.
    """

    @csrf_exempt  # the signed token is the authority; mail programs post here for one-click unsubscribe
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, token: str) -> HttpResponse:
        try:
            ids = link.ids(token)
        except signing.BadSignature:
            return render(request, template, {"invalid": True}, status=400)
        objects = load(*ids)
        if request.method == "POST":
            act(*objects.values())
        context = {**objects, "done": done(*objects.values()), "just_confirmed": request.method == "POST"}
        return render(request, template, context)

    return view
