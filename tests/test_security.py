"""Security settings (issue 8): `check --deploy` is clean in production, public pages carry a strict CSP."""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    key = "".join(secrets.choice(string.ascii_letters + string.digits + "!@#%^&*(-_=+)") for _ in range(50))
    # DJANGO_ALLOW_ASYNC_UNSAFE: the browser tests' live server sets it in this process; production never does.
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PUBLIC_BASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path), "DEBUG": "off",
                        "SECRET_KEY": key, "ALLOWED_HOSTS": "crm.example.com"})
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.parametrize("path", ["/f/s/no-such-survey/", "/r/no-such-token/", "/c/u/no-such-token/"])
def test_public_pages_have_a_strict_content_security_policy(client, db, path):
    response = client.get(path)

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy and "script-src" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_the_admin_keeps_its_inline_scripts_without_a_policy(client, db):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_public_survey_page_renders_under_the_policy(client, db):
    from feedback.models import Question, Survey

    survey = Survey.objects.create(title="Quick one", public_slug="quick")
    Question.objects.create(survey=survey, type=Question.Type.NPS, scores=Question.Score.NPS, text="Recommend?")
    response = client.get("/f/s/quick/")

    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers
    body = response.content.decode()
    assert "<script" not in body and "style=" not in body and "<style" not in body


# --- login throttling behind a load balancer (config.client_ip) -------------------------------------

LOAD_BALANCER = "10.0.0.5"


def _guess(client, *, remote_addr, forwarded_for=None, password="wrong guess"):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post("/admin/login/?next=/admin/", {"username": "sam.support", "password": password}, **extra)


@pytest.fixture
def staff_member(db):
    from tests.factories import UserFactory

    return UserFactory(username="sam.support")


def test_without_trusted_proxies_a_forged_x_forwarded_for_does_not_dodge_the_lockout(client, settings, staff_member):
    settings.TRUSTED_PROXY_COUNT = 0
    for attempt in range(5):
        _guess(client, remote_addr="203.0.113.7", forwarded_for=f"198.51.100.{attempt}")

    # A new forged address on every try changes nothing: the attacker is still 203.0.113.7.
    response = _guess(client, remote_addr="203.0.113.7", forwarded_for="192.0.2.99", password="correct horse battery staple")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_behind_one_proxy_two_clients_are_locked_out_separately(client, settings, staff_member):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        # The balancer appends the address it saw; what the attacker wrote before it is ignored.
        _guess(client, remote_addr=LOAD_BALANCER, forwarded_for="192.0.2.1, 203.0.113.7")

    assert _guess(client, remote_addr=LOAD_BALANCER, forwarded_for="203.0.113.7",
                  password="correct horse battery staple").status_code == 429
    # Another customer behind the same balancer still logs in.
    response = _guess(client, remote_addr=LOAD_BALANCER, forwarded_for="198.51.100.20", password="correct horse battery staple")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_behind_one_proxy_the_forged_left_part_of_the_header_does_not_dodge_the_lockout(client, settings, staff_member):
    settings.TRUSTED_PROXY_COUNT = 1
    for attempt in range(5):
        _guess(client, remote_addr=LOAD_BALANCER, forwarded_for=f"198.51.100.{attempt}, 203.0.113.7")

    response = _guess(client, remote_addr=LOAD_BALANCER, forwarded_for="192.0.2.99, 203.0.113.7",
                      password="correct horse battery staple")

    assert response.status_code == 429


@pytest.mark.parametrize("count, remote, header, expected", [
    (0, "203.0.113.7", "198.51.100.1", "203.0.113.7"),  # header ignored by default
    (1, "10.0.0.5", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the entry our proxy appended
    (2, "10.0.0.6", "198.51.100.1, 203.0.113.7, 10.0.0.5", "203.0.113.7"),
    (2, "10.0.0.6", "203.0.113.7", "10.0.0.6"),  # fewer entries than proxies: not through them all
    (1, "10.0.0.5", "not-an-ip", "10.0.0.5"),
    (1, "10.0.0.5", "", "10.0.0.5"),
])
def test_the_client_ip_is_taken_from_the_trusted_end_of_the_header(rf, settings, count, remote, header, expected):
    from config.client_ip import client_ip

    settings.TRUSTED_PROXY_COUNT = count
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected


def test_a_customer_panel_that_returns_plain_text_is_escaped_not_rendered_as_html():
    from django.utils.safestring import mark_safe

    from core import panels

    with panels.panel_registry.override({
        "text": lambda request, customer: "<script>alert(1)</script>",
        "template": lambda request, customer: mark_safe("<div class='card'>ok</div>"),
        "nothing": lambda request, customer: "",
    }):
        assert panels.customer_panels(None, None) == [
            "&lt;script&gt;alert(1)&lt;/script&gt;", "<div class='card'>ok</div>",
        ]
