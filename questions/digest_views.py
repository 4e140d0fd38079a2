"""/questions/digest/stop/<token>/: the weekly digest's unsubscribe link, with no sign-in needed.

The token, signed for one colleague, is the permission (as for the routing e-mail's stop link).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404

from questions.digest import opt_out_of_digest
from questions.models import DigestOptOut
from questions.signed_links import DIGEST_OPT_OUT, confirm_then_act

stop_digest = confirm_then_act(
    DIGEST_OPT_OUT,
    "questions/digest_stop.html",
    load=lambda user_id: {"colleague": get_object_or_404(get_user_model(), pk=user_id)},
    act=opt_out_of_digest,
    done=lambda user: DigestOptOut.objects.filter(user=user).exists(),
)
