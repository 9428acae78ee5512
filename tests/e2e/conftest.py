"""Real-browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Screenshots go to test-output/screenshots/. Without Chromium the tests are skipped with a message
on a laptop; in CI (CI=true) a missing browser is a failure, since .ci/run installs it.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.html_checks import html_problems

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]

# Playwright's sync API runs an event loop in this thread; the ORM calls of the test itself are
# safe. Set for the whole process (pytest-django's session fixtures touch the database while the
# browser is open); tests that start `manage.py` subprocesses strip it (see tests/test_security.py).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -r requirements.txt)")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs it with apt-get")
        pytest.skip("Chromium is not installed: apt-get install chromium fonts-dejavu-core")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def checked_documents(page) -> list[str]:
    """Check every HTML document the page loads (a link followed, a form submitted, a redirect) as the
    test client's pages are (tests/html_checks.py); the problems found are returned as they come.

    The document is checked as served, taken on its way to the browser (a route that fetches it, checks it
    and hands it on): page.content() would give the browser's repaired DOM, where a nested form has already
    been dropped, and a response's body is not read reliably from an event handler."""
    problems: list[str] = []

    def check(route, request):
        if request.resource_type != "document":
            route.continue_()
            return
        response = route.fetch(max_redirects=0)
        if "text/html" in response.headers.get("content-type", ""):
            problems.extend(f"{request.url}: {problem}" for problem in html_problems(response.text()))
        route.fulfill(response=response)

    page.route("**/*", check)
    return problems


def _page_checked(context):
    page = context.new_page()
    problems = checked_documents(page)
    yield page
    context.close()
    if problems:
        pytest.fail("the browser loaded pages that are not sound HTML5 documents:\n- " + "\n- ".join(problems),
                    pytrace=False)


@pytest.fixture
def phone(browser):
    yield from _page_checked(browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US"))


@pytest.fixture
def desktop(browser):
    yield from _page_checked(browser.new_context(viewport={"width": 1366, "height": 900}))


@pytest.fixture
def shot():
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
