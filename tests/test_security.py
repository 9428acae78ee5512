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
