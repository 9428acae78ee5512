"""The CI security steps (.ci/run): pip-audit on requirements.txt, bandit on our code."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def fake_pip_audit(tmp_path, *, report=None, stderr="", code=0) -> str:
    script = tmp_path / "fake_pip_audit.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.stdout.write({json.dumps(report) if report is not None else ""!r})
        sys.stderr.write({stderr!r})
        sys.exit({code})
    """))
    return f"{sys.executable} {script}"


def run_audit(command: str, **env):
    environment = {key: value for key, value in os.environ.items() if key != "PIP_AUDIT_STRICT"}
    environment.update({"PIP_AUDIT": command, **env})
    return subprocess.run([sys.executable, ".ci/pip_audit.py", "requirements.txt"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


SKIPPED = {"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited"},
                            {"name": "celery", "skip_reason": "Dependency not found on PyPI and could not be audited"}],
           "fixes": []}


def test_it_says_not_audited_without_failing_when_the_database_is_unreachable(tmp_path):
    # What pip-audit really does here: every package skipped, "No known vulnerabilities found", exit 0.
    result = run_audit(fake_pip_audit(tmp_path, report=SKIPPED, stderr="No known vulnerabilities found\n"))

    assert result.returncode == 0
    assert "NOT AUDITED" in result.stdout and "no known vulnerabilities" not in result.stdout


def test_it_says_not_audited_on_a_network_error(tmp_path):
    error = "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev'): Max retries exceeded\n"
    result = run_audit(fake_pip_audit(tmp_path, stderr=error, code=1))

    assert result.returncode == 0
    assert "NOT AUDITED" in result.stdout and "api.osv.dev" in result.stdout


def test_strict_mode_fails_when_nothing_could_be_audited(tmp_path):
    result = run_audit(fake_pip_audit(tmp_path, report=SKIPPED), PIP_AUDIT_STRICT="1")
    assert result.returncode == 2 and "NOT AUDITED" in result.stdout


def test_a_known_vulnerability_fails_the_build(tmp_path):
    report = {"dependencies": [
        {"name": "django", "version": "4.2.0", "vulns": [{"id": "PYSEC-2023-100", "fix_versions": ["4.2.2"]}]},
        {"name": "celery", "version": "5.7.0", "vulns": []},
    ], "fixes": []}
    result = run_audit(fake_pip_audit(tmp_path, report=report, code=1))

    assert result.returncode == 1
    assert "django 4.2.0: PYSEC-2023-100 (fixed in 4.2.2)" in result.stdout


def test_a_clean_audit_passes_and_names_what_it_could_not_check(tmp_path):
    report = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []},
                               {"name": "psycopg-binary", "skip_reason": "not on PyPI"}], "fixes": []}
    result = run_audit(fake_pip_audit(tmp_path, report=report))

    assert result.returncode == 0
    assert "no known vulnerabilities in the 1 audited packages" in result.stdout
    assert "not audited: psycopg-binary" in result.stdout


def test_it_fails_when_pip_audit_itself_breaks(tmp_path):
    result = run_audit(fake_pip_audit(tmp_path, stderr="error: no such file requirements.txt\n", code=1))
    assert result.returncode == 1 and "FAILED to run" in result.stdout


def test_ci_runs_the_security_steps_before_the_tests():
    script = (ROOT / ".ci" / "run").read_text()
    steps = [script.index(marker) for marker in
             ("requirements-ci.txt", ".ci/pip_audit.py", "bandit -q -r core crm club feedback campaigns analytics api config -ll\n",
              'log "tests on SQLite"')]
    assert steps == sorted(steps)
    assert "pip-audit" not in (ROOT / "requirements.txt").read_text()


@pytest.mark.skipif(not (BIN / "bandit").exists(), reason="bandit is installed from requirements-ci.txt")
def test_bandit_finds_no_medium_or_high_severity_issue():
    result = subprocess.run([str(BIN / "bandit"), "-q", "-r", "core", "crm", "club", "feedback", "campaigns", "analytics", "api", "config", "-ll"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout
