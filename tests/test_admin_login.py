"""Admin login throttling (django-axes): password guessing is locked out per username and IP address."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(db):
    return UserFactory(username="sam.support")


def log_in(client, password, ip="203.0.113.7", username="sam.support"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_it_logs_in_with_the_right_password(client, staff):
    response = log_in(client, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_the_attempt_after_five_wrong_passwords_is_refused_even_with_the_right_password(client, staff):
    for _ in range(4):
        assert log_in(client, "guess").status_code == 200  # the form again, with an error
    assert log_in(client, "guess").status_code == 429  # the fifth failure locks the pair out

    response = log_in(client, PASSWORD)  # the sixth attempt

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the login page


def test_the_lockout_is_per_username_and_ip_address(client, staff):
    UserFactory(username="mina.marketing")
    for _ in range(5):
        log_in(client, "guess")

    assert log_in(client, PASSWORD, ip="198.51.100.9").status_code == 302
    client.logout()
    assert log_in(client, PASSWORD, username="mina.marketing").status_code == 302


def test_the_lockout_ends_after_fifteen_minutes(client, staff):
    for _ in range(5):
        log_in(client, "guess")
    assert log_in(client, PASSWORD).status_code == 429

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert log_in(client, PASSWORD).status_code == 302


def test_fewer_than_five_wrong_passwords_do_not_lock_out(client, staff):
    for _ in range(4):
        log_in(client, "guess")
    assert log_in(client, PASSWORD).status_code == 302
