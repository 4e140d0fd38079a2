"""Storybank settings: one module, configured from the environment.

Defaults suit a developer's machine (SQLite and the embedded search index under var/). With
DEBUG off, the values production needs are required and checked here, at start-up.
"""

from pathlib import Path

from storybank.env import (
    database_config,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    env_url,
    secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("STORYBANK_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = secret_key(DEBUG, VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000, minimum=1)

INSTALLED_APPS = [
    "home",
    "stories",
    "capture",
    "search",
    "questions",
    "operations",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail.api.v2",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "rest_framework",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body (the CSRF check reads request.POST): refuses oversized bodies.
    "operations.upload_limits.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Malformed query parameters answer 400 with the reason (stories/params.py), never 500.
    "stories.middleware.BadParameterMiddleware",
    # In the admin, a storyteller naming someone else's page gets 404 before any title is shown.
    "stories.permissions.AdminPageGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "storybank.urls"
WSGI_APPLICATION = "storybank.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

DATABASE_URL = env_url("DATABASE_URL", schemes=("sqlite", "postgres", "postgresql", "pgsql"))
DATABASES = {"default": database_config(DATABASE_URL, VAR_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
# Protected media: "" streams files from Django (development); "nginx" answers with
# X-Accel-Redirect to PROTECTED_MEDIA_NGINX_PREFIX (an `internal` location, see docker/nginx.conf);
# "apache" answers with X-Sendfile. Either way Storybank decides who may read a file first.
PROTECTED_MEDIA_SERVER = env_choice("PROTECTED_MEDIA_SERVER", ("", "nginx", "apache"), "")
PROTECTED_MEDIA_NGINX_PREFIX = env_str("PROTECTED_MEDIA_NGINX_PREFIX", "/protected-media/")
STORAGES = {
    "default": {"BACKEND": "operations.storage.RandomNameStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "operations.storage.StaticStorage"
        )
    },
}

# Uploads: anything over 2.5 MB streams to a temporary file instead of memory.
MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 200, minimum=1)
MAX_IMAGE_MB = env_int("MAX_IMAGE_MB", 10, minimum=1)
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 40_000_000, minimum=1)
MAX_CLIP_SECONDS = env_int("MAX_CLIP_SECONDS", 600, minimum=1)
MAX_DOCUMENT_MB = env_int("MAX_DOCUMENT_MB", 50, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
FILE_UPLOAD_PERMISSIONS = 0o640
STORY_RATE_LIMIT_PER_HOUR = env_int("STORY_RATE_LIMIT_PER_HOUR", 20, minimum=1)
MAX_QUEUED_CLIPS_PER_PERSON = env_int("MAX_QUEUED_CLIPS_PER_PERSON", 3, minimum=1)

# Background work: django-tasks with its database backend; `manage.py run_worker` runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 5, minimum=1)
WORKER_STALE_SECONDS = env_int("WORKER_STALE_SECONDS", 60, minimum=5)

# Transcription (faster-whisper). Empty WHISPER_MODEL = the bundled tiny.en model.
WHISPER_MODEL = env_str("WHISPER_MODEL", "") or ""
WHISPER_DEVICE = env_str("WHISPER_DEVICE", "cpu")
WHISPER_COMPUTE_TYPE = env_str("WHISPER_COMPUTE_TYPE", "int8")
WHISPER_THREADS = env_int("WHISPER_THREADS", 2, minimum=0)
# Beam search width: 1 (greedy) is about twice as fast as 5 on a CPU, with little loss on clear speech.
WHISPER_BEAM_SIZE = env_int("WHISPER_BEAM_SIZE", 1, minimum=1)

# Search: Elasticsearch when ELASTICSEARCH_URL is set, the embedded index under var/ otherwise.
ELASTICSEARCH_URL = env_url("ELASTICSEARCH_URL", schemes=("http", "https"))
ELASTICSEARCH_INDEX = env_str("ELASTICSEARCH_INDEX", "storybank-stories")
# The SearchBackend subclass in use, by dotted path (a site may name its own engine); unset:
# Elasticsearch when ELASTICSEARCH_URL is set, the embedded index otherwise (search.backends).
STORYBANK_SEARCH_BACKEND = env_str("STORYBANK_SEARCH_BACKEND")
# Meaning search: "" = the bundled all-MiniLM-L6-v2, "off" = words only, or a sentence-transformers folder.
EMBEDDING_MODEL = env_str("EMBEDDING_MODEL", "") or ""
SEARCH_INDEX_DIR = Path(env_str("SEARCH_INDEX_DIR") or VAR_DIR / "search-index")
# An index update the engine refuses is retried after SEARCH_UPDATE_RETRY_SECONDS, doubling each
# time (at most an hour), and parked after SEARCH_UPDATE_MAX_ATTEMPTS refusals (`search_index retry`).
SEARCH_UPDATE_MAX_ATTEMPTS = env_int("SEARCH_UPDATE_MAX_ATTEMPTS", 5, minimum=1)
SEARCH_UPDATE_RETRY_SECONDS = env_int("SEARCH_UPDATE_RETRY_SECONDS", 30, minimum=1)

# Wagtail's own admin search uses the database; story search is ours (search/).
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAIL_SITE_NAME = "Storybank"
WAGTAILADMIN_BASE_URL = env_str("SITE_URL", f"http://localhost:{PORT}")
WAGTAIL_I18N_ENABLED = False
WAGTAIL_WORKFLOW_ENABLED = True
# Approving a review publishes the revision the editors read (stories/review.py).
WAGTAIL_FINISH_WORKFLOW_ACTION = "stories.review.publish_reviewed_revision"
WAGTAILIMAGES_MAX_UPLOAD_SIZE = MAX_IMAGE_MB * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
WAGTAILDOCS_MAX_UPLOAD_SIZE = MAX_DOCUMENT_MB * 1024 * 1024
# Documents are always served through the view, which asks the visibility policy first.
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
WAGTAILAPI_BASE_URL = WAGTAILADMIN_BASE_URL
REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "storybank@localhost")
# With EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend: one file per e-mail here.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "sent-mail"))
WAGTAILADMIN_NOTIFICATION_FROM_EMAIL = DEFAULT_FROM_EMAIL

# Questions: a posted question is e-mailed to at most this many of the people who know (0: none).
QUESTIONS_ROUTE_TO = env_int("QUESTIONS_ROUTE_TO", 3, minimum=0)
# Questions by e-mail are taken only from these domains (empty: any domain a colleague's account is at).
QUESTIONS_ALLOWED_DOMAINS = env_list("QUESTIONS_ALLOWED_DOMAINS", [])
# The library's own address: questions are sent to it, and replies to its e-mails come back to it.
QUESTIONS_EMAIL_ADDRESS = env_str("QUESTIONS_EMAIL_ADDRESS", DEFAULT_FROM_EMAIL)
# The local SMTP listener `make run` starts (host:port; empty: none). Local use only: no TLS, no auth.
QUESTIONS_SMTP_LISTEN = env_str("QUESTIONS_SMTP_LISTEN", "127.0.0.1:2525")
# An IMAP mailbox the worker polls for questions (imaps://user:password@host:993/INBOX; empty: none).
QUESTIONS_IMAP_URL = env_url("QUESTIONS_IMAP_URL", schemes=("imaps", "imap"))
QUESTIONS_IMAP_PROCESSED_FOLDER = env_str("QUESTIONS_IMAP_PROCESSED_FOLDER", "Processed")
QUESTIONS_IMAP_POLL_SECONDS = env_int("QUESTIONS_IMAP_POLL_SECONDS", 60, minimum=5)
# The weekly digest of answered and open questions: the weekday (0 = Monday) and hour it is sent.
QUESTIONS_DIGEST_WEEKDAY = env_int("QUESTIONS_DIGEST_WEEKDAY", 0, minimum=0, maximum=6)
QUESTIONS_DIGEST_HOUR = env_int("QUESTIONS_DIGEST_HOUR", 8, minimum=0, maximum=23)

# Security. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=1.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Container health checks and load balancers probe /healthz over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Wagtail's preview panel marks its own views SAMEORIGIN; nothing else needs to be framed.
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", [])
if not SECURE_HSTS_PRELOAD:
    # security.W021 only says the site is not on browsers' HSTS preload list. Joining binds every
    # subdomain to HTTPS for months, so it is the owner's explicit choice: SECURE_HSTS_PRELOAD=1.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "storybank.redaction.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task state change drowns everything else; failures still show.
        "django_tasks": {"level": env_str("TASKS_LOG_LEVEL", "WARNING")},
        "django_tasks_db": {"level": env_str("TASKS_LOG_LEVEL", "WARNING")},
        # aiosmtpd (the local mail listener) logs every command of every session at INFO.
        "mail.log": {"level": "WARNING"},
    },
}

# Static files are served by whitenoise; in development straight from the apps' static folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Jobs the worker repeats every WORKER_HEARTBEAT_SECONDS, each in its own thread; its start-up steps.
STORYBANK_HOUSEKEEPING = [
    "capture.recovery.requeue_stale_submissions",
    "search.sync.apply_pending_updates",
    "search.sync.embed_waiting_stories",
    "questions.imap.poll_when_due",
    "questions.digest.send_when_due",
    "questions.notifications.resend_when_due",
    "questions.notifications.route_again_when_meaning_ready",
]
STORYBANK_WORKER_STARTUP = ["capture.transcribe.warm_up"]

# The admin must not call out to third parties (closed networks, privacy).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False
