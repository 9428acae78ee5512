"""A partner's webhook endpoint for tests: a real HTTP server in a thread that records what it gets."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api import webhooks
from config.celery import app as celery_app


class Receiver:
    """A partner's endpoint: answers `status` to every POST (after `delay` seconds) and records each request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.url = ""

    def bodies(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]


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
def celery_eager():
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


def forget_connections() -> None:
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def webhook_settings(settings):
    settings.API_WEBHOOK_ALLOW_INSECURE_URLS = True  # the receiver is http://127.0.0.1
    settings.API_WEBHOOK_MAX_ATTEMPTS = 3
    settings.API_WEBHOOK_RETRY_BASE_SECONDS = 60
    webhooks.subscribed_events_forget()
    yield settings
    webhooks.subscribed_events_forget()  # nothing remembered leaks into other tests


def subscribe(partner, receiver, *events, own_data_only=False):
    return webhooks.webhook_subscribe(partner=partner, url=receiver.url, events=list(events), own_data_only=own_data_only)


def sweep():
    from core import jobs

    return jobs.run_job("api.webhooks_sweep")
