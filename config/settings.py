"""Settings for the CRM, read from environment variables.

Every variable has a default that works on a laptop with no services (SQLite, an
embedded Celery broker, e-mail written to files). `.env.example` lists them all.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    database_from_url, email_from_url, env_bool, env_days_or_forever, env_decimal, env_fraction, env_int, env_list, env_str,
    filesystem_broker_folders,
)

# --- Core
# Importing the settings reads files but never writes one: `make run` (config.local_files) makes
# VAR_DIR, the SQLite folder and the development SECRET_KEY file before any process starts,
# and config.celery makes the embedded broker's folders when the Celery app is configured.
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
DEV_SECRET_KEY_FILE = VAR_DIR / "secret_key"

DEBUG = env_bool("DEBUG", True)


def _secret_key() -> str:
    key = env_str("SECRET_KEY", "")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development: the key `make run` wrote into var/, shared by the web server and the worker so
    # sessions and signed links survive restarts. Without the file (tests, a one-off command) a
    # key for this process only: nothing it signs needs to outlive it.
    if DEV_SECRET_KEY_FILE.is_file():
        return DEV_SECRET_KEY_FILE.read_text().strip()
    return secrets.token_urlsafe(50)


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Apps, middleware, templates
INSTALLED_APPS = [
    "modeltranslation",  # before the admin, so translated fields get language tabs
    "core.admin_site.AdminConfig",  # django.contrib.admin whose site audits every admin view (core.audit)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # the widgets' own templates, for FORM_RENDERER below
    "django.contrib.postgres",  # OpClass in index expressions (crm name search); harmless on SQLite
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "phonenumber_field",
    "anymail",  # email through any provider it supports, and their tracking webhooks (campaigns.services.delivery)
    "axes",
    "simple_history",  # audit history of customers, consent, memberships, coupons, returns
    "core",  # the platform below every app: jobs, roles, audit, registries (first, see core.registry)
    "crm",
    "club",
    "feedback",
    "campaigns",
    "analytics",
    "api",
    "drf_spectacular_sidecar",  # Swagger UI / ReDoc files served from our static files, no CDN
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",  # first: every log line of a request carries its id
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.StaffLanguageMiddleware",  # the admin in the staff member's own language
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.middleware.AuditScopeMiddleware",  # each request's audit source and actor start empty (core.audit)
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.security.PublicContentSecurityPolicyMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Every call to /api/v1/ is logged (api.ApiCall, shown per partner in the admin); innermost but
    # for Axes, so it times the view and sees the key DRF authenticated.
    "api.middleware.ApiCallLogMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Widgets render through the project's templates, so templates/admin/widgets/ can give Django's admin inputs labels.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database
DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=env_int("CONN_MAX_AGE", 0, minimum=0)
    )
}
# A PostgreSQL streaming replica for the reports (core.replicas): the analytics recomputes, the dashboard and
# segment pages and the report commands read from it; every write, and every other read, goes to the primary.
# A replica that is down or more than DATABASE_REPLICA_MAX_LAG_SECONDS behind is skipped (checked at most every
# DATABASE_REPLICA_CHECK_SECONDS per process).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
DATABASE_REPLICA_MAX_LAG_SECONDS = env_int("DATABASE_REPLICA_MAX_LAG_SECONDS", 30, minimum=0)
DATABASE_REPLICA_CHECK_SECONDS = env_int("DATABASE_REPLICA_CHECK_SECONDS", 5, minimum=0)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = database_from_url(DATABASE_REPLICA_URL, conn_max_age=env_int("CONN_MAX_AGE", 0, minimum=0))
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must point to a PostgreSQL standby (postgres://...).")
    DATABASES["replica"]["OPTIONS"] = {**DATABASES["replica"].get("OPTIONS", {}), "connect_timeout": 2}
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # tests read the primary's test database
    DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication and the admin login lockout
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Admin login throttling (django-axes): 5 wrong passwords for a username from one IP address
# lock that pair out for 15 minutes, even with the right password. The standalone backend
# comes first so every authenticate() call is checked; it needs the request to do so.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind a load balancer: how many trusted proxies append to X-Forwarded-For (config.client_ip).
# 0 (the default) uses REMOTE_ADDR and never trusts the header, which any client can forge.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
CLIENT_IP_CALLABLE = "config.client_ip.client_ip"  # the API's failed-authentication throttle reads it too
AXES_CLIENT_IP_CALLABLE = CLIENT_IP_CALLABLE
RATELIMIT_IP_META_KEY = CLIENT_IP_CALLABLE  # the public pages' rate limits count the same address

# --- Languages and time
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("fa", _("Persian")), ("ar", _("Arabic"))]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE={LANGUAGE_CODE!r} is not one of {', '.join(dict(LANGUAGES))}.")
# locale/: the project's own strings (makemessages writes here); locale_django/: Persian for what Django ships
# untranslated (kept by hand, see its django.po).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_django"]
# Translated content (survey texts, message templates): one column per language, English as fallback.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone.") from None
USE_I18N = True
USE_TZ = True

# --- Files and e-mail
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"


# EMAIL_URL: console://, file:///path, locmem:// or smtp[s]://user:password@host:port.
# An email provider through django-anymail: EMAIL_BACKEND=anymail.backends.mailgun.EmailBackend (or postmark,
# sendgrid, amazon_ses...) wins over EMAIL_URL; its settings come from the ANYMAIL_* variables (ANYMAIL_MAILGUN_API_KEY
# becomes ANYMAIL["MAILGUN_API_KEY"]). The provider's tracking webhooks post to /anymail/<provider>/tracking/.
_email = email_from_url(env_str("EMAIL_URL", "file://" + str(VAR_DIR / "mail")))
if env_str("EMAIL_BACKEND", ""):
    _email["EMAIL_BACKEND"] = env_str("EMAIL_BACKEND", "")
globals().update(_email)
ANYMAIL = {name.removeprefix("ANYMAIL_"): value for name, value in os.environ.items()
           if name.startswith("ANYMAIL_") and name != "ANYMAIL_"}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "club@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# A 503 because the database or the broker could not be reached says when to try again (Retry-After),
# the same on the API, the public pages and /health/ready/.
RETRY_AFTER_SECONDS = env_int("RETRY_AFTER_SECONDS", 10, minimum=1)

# --- Security. Production (DEBUG off) gets the strict defaults; each can be overridden.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# A load balancer probes an instance over plain HTTP: the health endpoints answer it instead of redirecting.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# The preload directive only makes the domain eligible for the browsers' list; submitting is a
# separate, manual step. Set SECURE_HSTS_PRELOAD=off for a domain with subdomains that cannot do HTTPS.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# Public links carry tokens in their path (/f/<token>/, /r/<token>/): never send them to another site.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# A request body larger than this (from its Content-Length, before it is read) is refused: the API
# answers 413, a form 400. 2.5 MB (Django's default) holds a bulk of orders many times over.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
# Customer-facing pages (config.security): no inline code, nothing from other origins, no framing.
PUBLIC_CSP_PATH_PREFIXES = ("/f/", "/r/", "/c/", "/m/")
PUBLIC_CONTENT_SECURITY_POLICY = env_str("PUBLIC_CONTENT_SECURITY_POLICY", "") or (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

# --- Cache: per-process memory by default; production shares Redis between web processes
# (rate limits must be counted across all of them).
CACHE_URL = env_str("CACHE_URL", "locmem://")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif CACHE_URL == "locmem://":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r} must be locmem:// or redis://host:port/db.")
RATELIMIT_VIEW = "feedback.views.rate_limited"

# --- Celery. The default broker is kombu's filesystem transport under var/, which needs
# no server; production sets CELERY_BROKER_URL to redis:// or amqp://.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_folders(VAR_DIR)
elif not CELERY_BROKER_URL.startswith(("redis://", "rediss://", "amqp://", "amqps://", "memory://")):
    raise ImproperlyConfigured(f"CELERY_BROKER_URL={CELERY_BROKER_URL!r} must be filesystem://, redis://, amqp:// or memory://.")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60, minimum=1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- The partner API's framework (DRF, OpenAPI schema)
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "api.exceptions.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Club CRM partner API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Customers, orders, the club and coupons for partners. Authenticate with `Authorization: Api-Key <key>`.",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The enums' components (drf-spectacular's default), then the OpenAPI links between operations.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_links"],
    # Three models have a `channel`; each gets its own enum in the schema.
    "ENUM_NAME_OVERRIDES": {
        "InteractionChannelEnum": "crm.models.Interaction.Channel",
        "ConsentChannelEnum": "crm.models.ConsentChange.Channel",
        "OrderChannelEnum": "crm.models.Order.Channel",
    },
}

# The country whose national numbers people type ("0912 ..." for IR); empty: international numbers only.
# IR by default: the demo's customers and the club's first market are in Iran.
PHONENUMBER_DEFAULT_REGION = env_str("PHONENUMBER_DEFAULT_REGION", "IR").strip().upper() or None
if PHONENUMBER_DEFAULT_REGION is not None:
    import phonenumbers

    if PHONENUMBER_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
        raise ImproperlyConfigured(
            f"PHONENUMBER_DEFAULT_REGION={PHONENUMBER_DEFAULT_REGION!r} is not a region code (IR, AE, GB...); leave it empty "
            "to accept international numbers only."
        )

# --- The product: customers, orders, jobs
# A customer is *active* at time t when they have a counted order in [t - W, t).
CRM_ACTIVITY_WINDOW_DAYS = env_int("CRM_ACTIVITY_WINDOW_DAYS", 90, minimum=1)
CRM_IMPORT_BATCH_SIZE = env_int("CRM_IMPORT_BATCH_SIZE", 5000, minimum=1)
# Recommendations (crm.recommend): co-purchase over the counted orders of the last LOOKBACK days; a pair
# counts when MIN_SUPPORT customers bought both; NEIGHBOURS kept per product; products bought in the last
# RECENT days are not recommended again unless due (replenishment interval passed); CHUNK_SIZE customer ids
# per DELETE + INSERT of the nightly refresh.
RECOMMEND_LOOKBACK_DAYS = env_int("RECOMMEND_LOOKBACK_DAYS", 365, minimum=1)
RECOMMEND_RECENT_DAYS = env_int("RECOMMEND_RECENT_DAYS", 365, minimum=0)
RECOMMEND_MIN_SUPPORT = env_int("RECOMMEND_MIN_SUPPORT", 3, minimum=1)
RECOMMEND_NEIGHBOURS = env_int("RECOMMEND_NEIGHBOURS", 30, minimum=1)
RECOMMEND_CHUNK_SIZE = env_int("RECOMMEND_CHUNK_SIZE", 20000, minimum=1)
# Periodic jobs (core.jobs): a failed run is retried JOB_MAX_RETRIES times, the n-th retry
# JOB_RETRY_BACKOFF_SECONDS * 2**(n-1) seconds later (at most JOB_RETRY_BACKOFF_MAX_SECONDS);
# each attempt is a JobRun row, kept JOB_RUNS_KEEP_DAYS days (job core.job_runs_purge).
JOB_MAX_RETRIES = env_int("JOB_MAX_RETRIES", 5, minimum=0)
JOB_RETRY_BACKOFF_SECONDS = env_int("JOB_RETRY_BACKOFF_SECONDS", 60, minimum=1)
JOB_RETRY_BACKOFF_MAX_SECONDS = env_int("JOB_RETRY_BACKOFF_MAX_SECONDS", 30 * 60, minimum=1)
JOB_RUNS_KEEP_DAYS = env_int("JOB_RUNS_KEEP_DAYS", 90, minimum=1)
_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_working_days = env_list("CRM_WORKING_DAYS", ["mon", "tue", "wed", "thu", "fri"])
if not _working_days or any(day.lower() not in _WEEKDAYS for day in _working_days):
    raise ImproperlyConfigured(f"CRM_WORKING_DAYS must be a comma-separated list of {', '.join(_WEEKDAYS)}.")
# Weekday numbers as datetime.weekday() gives them (Monday = 0); Iran, for example, uses sat,sun,mon,tue,wed.
CRM_WORKING_DAYS = frozenset(_WEEKDAYS.index(day.lower()) for day in _working_days)

# --- Feedback and returns
FEEDBACK_RATE_LIMIT = env_str("FEEDBACK_RATE_LIMIT", "20/m")  # public survey and return pages, per IP address and per token
FEEDBACK_RETURN_WINDOW_DAYS = env_int("FEEDBACK_RETURN_WINDOW_DAYS", 30, minimum=0)
FEEDBACK_STORE_CREDIT_AS = env_str("FEEDBACK_STORE_CREDIT_AS", "coupon")  # coupon or points
if FEEDBACK_STORE_CREDIT_AS not in ("coupon", "points"):
    raise ImproperlyConfigured("FEEDBACK_STORE_CREDIT_AS must be coupon or points.")
FEEDBACK_STORE_CREDIT_POINTS_PER_UNIT = env_int("FEEDBACK_STORE_CREDIT_POINTS_PER_UNIT", 10, minimum=1)

# --- Logging and system checks
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"}},
    "filters": {"request_id": {"()": "core.errors.RequestIdLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # django-axes logs a start-up banner at INFO from every process, which pollutes the output of
        # commands that scripts read; its lockout warnings come from other loggers and still show.
        "axes.apps": {"level": "WARNING"},
    },
}

# Index(include=...) is a PostgreSQL feature; SQLite simply builds the key-only index.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- The club (issue 3)
# Earned points expire this many days after they are earned.
CLUB_POINTS_EXPIRY_DAYS = env_int("CLUB_POINTS_EXPIRY_DAYS", 365, minimum=1)
# Purchase points are held this many days before they can be spent (0: at once).
CLUB_PENDING_DAYS = env_int("CLUB_PENDING_DAYS", 0, minimum=0)
# How long the earning rules and tiers every order reads are remembered (club.selectors.config_rows; 0: read each time).
CLUB_CONFIG_CACHE_SECONDS = env_int("CLUB_CONFIG_CACHE_SECONDS", 5, minimum=0)
# Tier qualification: points earned ("points") or counted spend ("spend") in a rolling window.
CLUB_TIER_WINDOW_DAYS = env_int("CLUB_TIER_WINDOW_DAYS", 365, minimum=1)
CLUB_TIER_BASIS = env_str("CLUB_TIER_BASIS", "points")
if CLUB_TIER_BASIS not in ("points", "spend"):
    raise ImproperlyConfigured(f"CLUB_TIER_BASIS={CLUB_TIER_BASIS!r} must be 'points' or 'spend'.")
# A member below their tier keeps it this many days before the periodic review downgrades them.
CLUB_TIER_GRACE_DAYS = env_int("CLUB_TIER_GRACE_DAYS", 30, minimum=0)
CLUB_BIRTHDAY_DAYS_BEFORE = env_int("CLUB_BIRTHDAY_DAYS_BEFORE", 0, minimum=0)
CLUB_BIRTHDAY_COUPON_VALID_DAYS = env_int("CLUB_BIRTHDAY_COUPON_VALID_DAYS", 30, minimum=1)
CLUB_EXPIRY_WARNING_DAYS = env_int("CLUB_EXPIRY_WARNING_DAYS", 14, minimum=0)
CLUB_COUPON_VALID_DAYS = env_int("CLUB_COUPON_VALID_DAYS", 30, minimum=1)
# The member's club card page (/m/<token>/): its signed link is valid this long; requests per address and per link.
CLUB_CARD_LINK_DAYS = env_int("CLUB_CARD_LINK_DAYS", 90, minimum=1)
CLUB_CARD_RATE_LIMIT = env_str("CLUB_CARD_RATE_LIMIT", FEEDBACK_RATE_LIMIT)
# What one point costs the business, in the default currency (a Decimal): the club's liability is points x this.
CLUB_POINT_VALUE = env_decimal("CLUB_POINT_VALUE", "0", minimum="0")

# --- Campaigns (issue 5): campaigns, messages, channels, automations
# Absolute links in messages (unsubscribe, tracking, survey links) start with this; https in production.
# `check --deploy` warns when it is not https (campaigns.W001).
# Without PUBLIC_BASE_URL, production uses https:// and the first ALLOWED_HOSTS name (when it is a plain host name).
_public_host = ALLOWED_HOSTS[0] if ALLOWED_HOSTS and not ALLOWED_HOSTS[0].startswith((".", "*")) else ""
CAMPAIGNS_PUBLIC_BASE_URL = env_str(
    "PUBLIC_BASE_URL", f"https://{_public_host}" if not DEBUG and _public_host else "http://127.0.0.1:8000"
).rstrip("/")
# At most this many marketing messages per customer in CAMPAIGNS_FREQUENCY_CAP_DAYS days.
CAMPAIGNS_FREQUENCY_CAP = env_int("CAMPAIGNS_FREQUENCY_CAP", 3, minimum=1)
CAMPAIGNS_FREQUENCY_CAP_DAYS = env_int("CAMPAIGNS_FREQUENCY_CAP_DAYS", 7, minimum=1)
# A counted order within this many days of a message converts it.
CAMPAIGNS_CONVERSION_DAYS = env_int("CAMPAIGNS_CONVERSION_DAYS", 7, minimum=1)
CAMPAIGNS_CHUNK_SIZE = env_int("CAMPAIGNS_CHUNK_SIZE", 200, minimum=1)  # messages per sending task
CAMPAIGNS_SEND_RETRIES = env_int("CAMPAIGNS_SEND_RETRIES", 5, minimum=0)  # task retries on provider errors
# A message still "sending" this long after it was claimed belongs to a worker that died.
CAMPAIGNS_STALE_SENDING_MINUTES = env_int("CAMPAIGNS_STALE_SENDING_MINUTES", 35, minimum=1)
CAMPAIGNS_UNSUBSCRIBE_LINK_DAYS = env_int("CAMPAIGNS_UNSUBSCRIBE_LINK_DAYS", 365, minimum=1)
CAMPAIGNS_PUBLIC_RATE_LIMIT = env_str("CAMPAIGNS_PUBLIC_RATE_LIMIT", "60/m")
# Automations pick up occasions missed by up to this many days (a day the job did not run).
CAMPAIGNS_AUTOMATION_CATCH_UP_DAYS = env_int("CAMPAIGNS_AUTOMATION_CATCH_UP_DAYS", 2, minimum=0)
# SMS: a dotted path to a backend class in campaigns.sms (file by default, Twilio in production).
SMS_BACKEND = env_str("SMS_BACKEND", "campaigns.sms.FileBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(VAR_DIR / "sms"))
SMS_SENDER = env_str("SMS_SENDER", "")  # a number in E.164 or an alphanumeric sender id
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID", "")
SMS_TIMEOUT_SECONDS = env_int("SMS_TIMEOUT_SECONDS", 15, minimum=1)
# Kavenegar (SMS_BACKEND=campaigns.sms.KavenegarBackend): the API key, the sender line (or SMS_SENDER) and the API root
# (tests point it at a local fake). Its delivery reports post to the URL `manage.py sms_callback_url` prints.
KAVENEGAR_API_KEY = env_str("KAVENEGAR_API_KEY", "")
KAVENEGAR_SENDER = env_str("KAVENEGAR_SENDER", "")
KAVENEGAR_API_URL = env_str("KAVENEGAR_API_URL", "https://api.kavenegar.com/v1").rstrip("/")
# The secret in the delivery report URL (derived from SECRET_KEY when empty); change it to revoke the old URL.
SMS_CALLBACK_SECRET = env_str("SMS_CALLBACK_SECRET", "")
# An SMS the operator reports undelivered is sent again this many times before it is marked failed.
SMS_DELIVERY_RETRIES = env_int("SMS_DELIVERY_RETRIES", 1, minimum=0)

# --- Analytics (issue 6): retention snapshots, RFM, predicted churn and CLV. See docs/metrics.md.
# Customers whose P(alive) is below this are "likely churning" (dashboard, segment rule p_alive lt X).
ANALYTICS_LIKELY_CHURN_P_ALIVE = env_fraction("ANALYTICS_LIKELY_CHURN_P_ALIVE", 0.5)
# Predictive CLV: horizon in months and monthly discount rate (0.01 = 1% a month).
ANALYTICS_CLV_MONTHS = env_int("ANALYTICS_CLV_MONTHS", 12, minimum=1)
ANALYTICS_CLV_MONTHLY_DISCOUNT = env_fraction("ANALYTICS_CLV_MONTHLY_DISCOUNT", 0.01)
# BG/NBD time unit ("days" or "weeks") for the weekly refit.
ANALYTICS_PREDICTION_UNIT = env_str("ANALYTICS_PREDICTION_UNIT", "days")
if ANALYTICS_PREDICTION_UNIT not in ("days", "weeks"):
    raise ImproperlyConfigured("ANALYTICS_PREDICTION_UNIT must be days or weeks.")
# How many past periods (months, quarters, years) the snapshot job keeps computed.
ANALYTICS_SNAPSHOT_PERIODS = env_int("ANALYTICS_SNAPSHOT_PERIODS", 12, minimum=1)
# Rows per statement when predictions are written back.
ANALYTICS_UPSERT_BATCH_SIZE = env_int("ANALYTICS_UPSERT_BATCH_SIZE", 20000, minimum=1)

# --- Partner API (issue 7): the REST API under /api/v1/ and its webhooks
# Requests per API key, counted in the cache (CACHE_URL: share Redis between web processes).
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "1200/min")
# Requests without a key or with a wrong one, per client address (TRUSTED_PROXY_COUNT says which
# address that is behind a load balancer): 401 up to this rate, then 429 with Retry-After.
API_AUTH_FAILURE_RATE = env_str("API_AUTH_FAILURE_RATE", "30/min")
# One-time club enrolment codes an own-data-only key may have sent (each is an SMS or an email the shop pays for),
# per key; beyond it 429 with Retry-After (api.enrolment).
API_ENROL_CODE_RATE = env_str("API_ENROL_CODE_RATE", "200/hour")
# A stored Idempotency-Key response is replayed for at least this long.
API_IDEMPOTENCY_TTL_HOURS = env_int("API_IDEMPOTENCY_TTL_HOURS", 24, minimum=24)
# A claim older than this with no response belongs to a request that died; a retry takes it over.
API_IDEMPOTENCY_STALE_SECONDS = env_int("API_IDEMPOTENCY_STALE_SECONDS", 300, minimum=30)
API_KEY_LAST_USED_RESOLUTION_SECONDS = env_int("API_KEY_LAST_USED_RESOLUTION_SECONDS", 60, minimum=1)
# A web process remembers a key this long (api.keys; 0: reads it on every call). A change to a key or partner reaches
# every process at once with a shared cache (CACHE_URL=redis://), else the other processes within this bound.
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 5, minimum=0)
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50, minimum=1)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200, minimum=1)
# A JSON body nesting arrays and objects deeper than this is refused (400) before any view reads it.
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 64, minimum=8)
# Call-log rows (api.middleware.ApiCallLogMiddleware) older than this are purged.
API_CALL_LOG_DAYS = env_int("API_CALL_LOG_DAYS", 30, minimum=1)
# A web process stores its call-log rows in one INSERT at most this many milliseconds apart (and at exit; 0: each
# call at once), at most this many at a time (api.middleware.CallLogBuffer): a row shows up to that much later.
API_CALL_LOG_FLUSH_MS = env_int("API_CALL_LOG_FLUSH_MS", 1000, minimum=0)
API_CALL_LOG_BUFFER_ROWS = env_int("API_CALL_LOG_BUFFER_ROWS", 500, minimum=1)
# Webhooks (api.webhooks): an outbox of deliveries, sent by Celery, swept every minute.
API_WEBHOOK_MAX_ATTEMPTS = env_int("API_WEBHOOK_MAX_ATTEMPTS", 10, minimum=1)
# Retry n waits BASE * 2**(n-1) seconds, at most MAX.
API_WEBHOOK_RETRY_BASE_SECONDS = env_int("API_WEBHOOK_RETRY_BASE_SECONDS", 60, minimum=1)
API_WEBHOOK_RETRY_MAX_SECONDS = env_int("API_WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600, minimum=1)
API_WEBHOOK_TIMEOUT_SECONDS = env_int("API_WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
# Off in production: only https to public hosts. On (the default when DEBUG) also http and private hosts.
API_WEBHOOK_ALLOW_INSECURE_URLS = env_bool("API_WEBHOOK_ALLOW_INSECURE_URLS", DEBUG)
API_WEBHOOK_MAX_SUBSCRIPTIONS = env_int("API_WEBHOOK_MAX_SUBSCRIPTIONS", 20, minimum=1)
API_WEBHOOK_KEEP_DAYS = env_int("API_WEBHOOK_KEEP_DAYS", 30, minimum=1)
API_WEBHOOK_SUBSCRIBERS_CACHE_SECONDS = env_int("API_WEBHOOK_SUBSCRIBERS_CACHE_SECONDS", 5, minimum=0)
API_WEBHOOK_QUEUE_LEASE_SECONDS = env_int("API_WEBHOOK_QUEUE_LEASE_SECONDS", 300, minimum=1)
API_WEBHOOK_SWEEP_BATCH = env_int("API_WEBHOOK_SWEEP_BATCH", 1000, minimum=1)
API_WEBHOOK_TASK_CHUNK = env_int("API_WEBHOOK_TASK_CHUNK", 50, minimum=1)
API_WEBHOOK_RENDER_IN_WORKER_AT = env_int("API_WEBHOOK_RENDER_IN_WORKER_AT", 200, minimum=1)

# --- Privacy (issue 8): retention. Older rows are deleted by nightly jobs, in batches:
# interactions (job crm.retention_interactions; open or waiting follow-ups are kept until resolved)
# and campaign/automation messages (job campaigns.retention_messages; queued or sending ones are kept).
# A number of days; 0 or empty keeps them forever.
RETENTION_INTERACTIONS_DAYS = env_days_or_forever("RETENTION_INTERACTIONS_DAYS", 1095)
RETENTION_MESSAGES_DAYS = env_days_or_forever("RETENTION_MESSAGES_DAYS", 730)
# Rows deleted per statement (keeps each transaction and its locks short on big tables).
RETENTION_PURGE_BATCH_SIZE = env_int("RETENTION_PURGE_BATCH_SIZE", 5000, minimum=1)
