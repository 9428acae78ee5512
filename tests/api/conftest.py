"""Fixtures of the API tests. `partner`, `make_client` and the club fixtures are project-wide
(tests/conftest.py); the webhook receiver is here because the admin's tests use it too."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api import services, webhooks
from tests.api.webhook_helpers import Receiver


@pytest.fixture(autouse=True)
def fresh_rate_limits(fresh_rate_limits):
    """Every API test starts with empty throttle counters (the project-wide fixture, for each test here)."""
    return fresh_rate_limits


@pytest.fixture
def other_partner(db):
    return services.partner_create(name="Shop Two")


@pytest.fixture
def api(make_client):
    return make_client()


@pytest.fixture
def receiver():
    recorded = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            recorded.requests.append({"path": self.path, "headers": self.headers, "body": body})
            time.sleep(recorded.delay)
            answer = b"{}" if recorded.status < 300 else b"temporarily broken"
            self.send_response(recorded.status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorded.url = f"http://127.0.0.1:{server.server_port}/hooks"
    yield recorded
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_settings(settings):
    settings.API_WEBHOOK_ALLOW_INSECURE_URLS = True  # the receiver is http://127.0.0.1
    settings.API_WEBHOOK_MAX_ATTEMPTS = 3
    settings.API_WEBHOOK_RETRY_BASE_SECONDS = 60
    webhooks.subscribed_events_forget()
    yield settings
    webhooks.subscribed_events_forget()  # nothing remembered leaks into other tests
