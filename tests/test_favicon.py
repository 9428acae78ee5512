"""The icon a browser shows in its tab: linked from the public and admin pages, and /favicon.ico answers it."""

import pytest
from django.urls import reverse

from feedback.services.returns import order_return_link

pytestmark = pytest.mark.django_db


def test_it_answers_favicon_ico_with_the_svg_icon(client):
    reply = client.get("/favicon.ico")
    assert reply.status_code == 200 and reply["Content-Type"] == "image/svg+xml"
    assert reply.content.startswith(b"<svg") and "max-age=86400" in reply["Cache-Control"]


def test_it_refuses_to_be_written_to(client):
    assert client.post("/favicon.ico").status_code == 405


def test_it_links_the_icon_from_the_admin_and_the_public_pages(client, admin_client, customer, place_order):
    icon = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
    assert icon in admin_client.get(reverse("admin:index")).content.decode()
    assert icon in client.get(reverse("admin:login")).content.decode()
    assert icon in client.get(order_return_link(place_order(customer))).content.decode()
