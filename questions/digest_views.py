"""/questions/digest/stop/<token>/: the weekly digest's unsubscribe link, with no sign-in needed.

The token, signed for one colleague, is the permission (as for the routing e-mail's stop link).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from questions.digest import opt_out_of_digest, user_for_digest_token
from questions.models import DigestOptOut


@csrf_exempt  # the signed token is the authority; mail programs post here for one-click unsubscribe
@require_http_methods(["GET", "POST"])
def stop_digest(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (a mail scanner opening the link changes nothing); POST opts out, once."""
    try:
        user_id = user_for_digest_token(token)
    except signing.BadSignature:
        return render(request, "questions/digest_stop.html", {"invalid": True}, status=400)
    user = get_object_or_404(get_user_model(), pk=user_id)
    if request.method == "POST":
        opt_out_of_digest(user)
    return render(
        request,
        "questions/digest_stop.html",
        {
            "opted_out": DigestOptOut.objects.filter(user=user).exists(),
            "just_confirmed": request.method == "POST",
        },
    )
