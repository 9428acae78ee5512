"""The page checker every test client response goes through (tests/html_checks.py, hooked in tests/conftest.py)."""

import pytest
from django.http import HttpResponse
from django.urls import include, path

from tests.html_checks import html_problems


def page(body: str) -> str:
    return f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>{body}</body></html>'


def test_it_passes_a_sound_page():
    assert html_problems(page(
        '<form method="post"><label for="q">Name</label><input id="q" name="q">'
        '<label>Age <input name="age" type="number"></label>'
        '<input name="x" aria-label="Search"><select name="s" title="Sort"></select>'
        '<input type="hidden" name="csrf"><input type="submit" value="Go"><button>Send</button></form>'
        '<form method="post" action="/other"><textarea name="t" aria-labelledby="h"></textarea></form><h2 id="h">Note</h2>'
    )) == []


def test_it_fails_a_form_nested_in_a_form():
    problems = html_problems(page('<form action="/save"><form action="/send"><button>Send now</button></form></form>'))
    assert any("<form> inside another <form>" in problem for problem in problems)


def test_it_fails_a_duplicate_id():
    assert html_problems(page('<p id="total">1</p><div id="total">2</div>')) == ['id="total" is used 2 times']


@pytest.mark.parametrize("control", ['<input name="q">', '<input type="email" name="q">', '<select name="q"></select>',
                                     '<textarea name="q"></textarea>', '<input name="q" aria-label="  ">'])
def test_it_fails_a_control_without_a_label(control):
    problems = html_problems(page(f"<form>{control}<label for='other'>Other</label></form>"))
    assert len(problems) == 1 and "has no label" in problems[0] and 'name="q"' in problems[0]


def test_it_fails_markup_the_browser_must_repair():
    problems = html_problems(page("<div><p>text</div></span>"))
    assert problems and any("an end tag" in problem for problem in problems)


def test_it_reads_a_fragment_without_a_doctype():
    assert html_problems('<p><input name="q" title="Quantity"></p>') == []
    assert html_problems('<p id="a"></p><p id="a"></p>') == ['id="a" is used 2 times']


urlpatterns = [
    path("broken/", lambda request: HttpResponse(page("<form><form></form></form>"))),
    path("", include("config.urls")),
]


def test_it_fails_the_test_whose_client_renders_a_broken_page(client, settings):
    """The hook in tests/conftest.py: a view answering a nested form fails the request that rendered it."""
    settings.ROOT_URLCONF = __name__
    with pytest.raises(pytest.fail.Exception, match="not a sound HTML5 document"):
        client.get("/broken/")


def test_it_fails_a_read_only_value_that_reads_none():
    page = '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body>{}</body></html>'
    assert html_problems(page.format('<div class="readonly">None</div>')) == [
        'a read-only value reads "None" (<div class="readonly">)']
    assert html_problems(page.format('<div class="readonly">-</div><p>None of these</p>')) == []
