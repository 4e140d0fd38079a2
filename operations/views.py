"""Health endpoint and upload serving."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from operations.health import public_health, system_health
from stories.visibility import is_editor


@never_cache
def healthz(request):
    """State of every part; 200 only when all are healthy, so load balancers can act on it.

    Anyone sees ok/failed per part; details (versions, ages, errors) are for editors only.
    """
    healthy, report = system_health()
    if not is_editor(request.user):
        report = public_health(report)
    return JsonResponse(report, status=200 if healthy else 503)
