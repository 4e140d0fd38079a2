from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The front door: the home page, the site chrome (base template, stylesheet) and login pages."""

    name = "home"
    verbose_name = "Home"
