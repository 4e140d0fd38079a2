"""Health endpoint and upload serving."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from operations.health import system_health


@never_cache
def healthz(request):
    """JSON state of every part; 200 only when all are healthy, so load balancers can act on it."""
    healthy, report = system_health()
    return JsonResponse(report, status=200 if healthy else 503)
