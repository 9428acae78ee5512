"""Settings of the gunicorn process that `bench_api.py` starts: the project's settings, plus the
bench-only URLconf (`bench.api_urls`: the bare baseline view next to the real routes).

Used only through DJANGO_SETTINGS_MODULE=bench.api_settings, so no bench route exists in production."""

from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.api_urls"
