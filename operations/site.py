"""The Wagtail site record follows SITE_URL, so absolute links (API, feeds, e-mails) are right."""

from urllib.parse import urlsplit

from wagtail.models import Site


def point_site_at(site_url: str) -> Site | None:
    """Set the default site's host name and port from `site_url`; returns the site, if any."""
    parts = urlsplit(site_url)
    site = Site.objects.filter(is_default_site=True).first()
    if site is None or not parts.hostname:
        return site
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if (site.hostname, site.port) != (parts.hostname, port):
        site.hostname, site.port = parts.hostname, port
        site.save(update_fields=["hostname", "port"])
    return site
