import io
import json
import socket
import urllib.error
from urllib.parse import parse_qs

import pytest
from django.core import mail

from campaigns import sms
from campaigns.sms import GSM7, UCS2, sms_length
from core.direction import FSI, PDI
from tests.campaigns.helpers import make_campaign, send_everything, static_segment

pytestmark = pytest.mark.usefixtures("celery_eager")

PERSIAN = "سلام"  # 4 letters
ARABIC = "مرحبا"  # 5 letters


@pytest.mark.parametrize("text, encoding, parts", [
    ("", GSM7, 0),
    ("a" * 160, GSM7, 1),
    ("a" * 161, GSM7, 2),
    ("a" * 306, GSM7, 2),  # 2 x 153
    ("a" * 307, GSM7, 3),
    ("Prices in € and [brackets]", GSM7, 1),
    ("ç is not in GSM-7? it is Ç only" , UCS2, 1),
])
def test_gsm7_text_is_160_single_and_153_per_part(text, encoding, parts):
    length = sms_length(text)
    assert (length.encoding, length.parts) == (encoding, parts)


def test_gsm7_extension_characters_take_two_septets_and_are_not_split():
    assert sms_length("€" * 80).units == 160 and sms_length("€" * 80).parts == 1
    assert sms_length("€" * 81).parts == 2
    # 152 plain characters then a two-septet euro sign: the sign moves to the second part.
    assert sms_length("a" * 152 + "€" + "a" * 10).parts == 2
    assert sms_length("a" * 151 + "€" + "a" * 153).parts == 2  # 153 + 153
    assert sms_length("a" * 152 + "€" + "a" * 152).parts == 3  # also 306 septets, but the sign cannot straddle


@pytest.mark.parametrize("text, parts", [
    (PERSIAN * 17 + "ab", 1),  # 70 characters
    (PERSIAN * 17 + "abc", 2),  # 71
    (PERSIAN * 33 + "ab", 2),  # 134 = 2 x 67
    (PERSIAN * 33 + "abc", 3),  # 135
    (ARABIC * 14, 1),  # 70
    (ARABIC * 14 + "!", 2),
    (ARABIC * 26 + "ab" * 4 + "!", 3),  # 139
])
def test_persian_and_arabic_need_ucs2_70_single_and_67_per_part(text, parts):
    length = sms_length(text)
    assert length.encoding == UCS2 and length.parts == parts


def test_one_persian_letter_turns_a_latin_message_into_ucs2():
    assert sms_length("a" * 100).parts == 1
    assert sms_length("a" * 100 + "ی").encoding == UCS2 and sms_length("a" * 100 + "ی").parts == 2


def test_an_emoji_counts_two_ucs2_units():
    assert sms_length("🎉" * 35).units == 70 and sms_length("🎉" * 35).parts == 1
    assert sms_length("🎉" * 36).parts == 2


@pytest.mark.parametrize("raw, e164", [
    ("+98 912 123 4567", "+989121234567"),
    ("+44 7911 123456", "+447911123456"),
    ("+971 50 123 4567", "+971501234567"),
])
def test_numbers_are_sent_in_e164(raw, e164):
    assert sms.normalize_e164(raw) == e164


@pytest.mark.parametrize("raw", ["0912", "hello", "+98 12"])
def test_a_bad_number_is_a_permanent_error(raw):
    with pytest.raises(sms.PermanentSmsError):
        sms.normalize_e164(raw)


def test_the_file_backend_writes_one_json_line_per_sms(tmp_path):
    backend = sms.FileBackend(path=str(tmp_path))
    provider_id = sms.send_sms(to="+98 912 123 4567", text=PERSIAN, idempotency_key="k1", backend=backend)
    sms.send_sms(to="+989121234568", text="hi", idempotency_key="k2", backend=backend)
    lines = [json.loads(line) for path in tmp_path.iterdir() for line in path.read_text().splitlines()]
    assert provider_id == "file-k1"
    assert [(line["to"], line["text"], line["encoding"]) for line in lines] == [
        ("+989121234567", PERSIAN, UCS2), ("+989121234568", "hi", GSM7)]


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def twilio(settings):
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "secret"
    settings.SMS_SENDER = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    return sms.TwilioBackend()


def test_twilio_gets_a_form_post_with_basic_auth_and_returns_the_sid(twilio, monkeypatch):
    seen = {}

    def fake_urlopen(request, timeout):
        seen.update(url=request.full_url, data=parse_qs(request.data.decode()), auth=request.get_header("Authorization"),
                    method=request.get_method(), timeout=timeout)
        return FakeResponse(json.dumps({"sid": "SM42", "status": "queued"}).encode())

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    assert twilio.send("+989121234567", PERSIAN, "key-1") == "SM42"
    assert seen["url"] == "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json" and seen["method"] == "POST"
    assert seen["data"] == {"To": ["+989121234567"], "Body": [PERSIAN], "From": ["+15005550006"]}
    assert seen["auth"] == "Basic QUMxMjM6c2VjcmV0"


def _http_error(code, body):
    return urllib.error.HTTPError("https://api.twilio.com", code, "error", {}, io.BytesIO(json.dumps(body).encode()))


@pytest.mark.parametrize("error, kind", [
    (_http_error(400, {"code": 21211, "message": "The 'To' number is not valid."}), sms.PermanentSmsError),
    (_http_error(429, {"code": 20429, "message": "Too Many Requests"}), sms.TransientSmsError),
    (_http_error(503, {"message": "Service Unavailable"}), sms.TransientSmsError),
    (urllib.error.URLError(ConnectionRefusedError("refused")), sms.TransientSmsError),
    (socket.timeout("timed out"), sms.PermanentSmsError),  # it may have been sent: never retried
])
def test_twilio_errors_are_transient_only_when_nothing_was_sent(twilio, monkeypatch, error, kind):
    def fake_urlopen(request, timeout):
        raise error

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    with pytest.raises(kind):
        twilio.send("+989121234567", "hi", "key-1")


def test_twilio_without_credentials_refuses_to_start(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    with pytest.raises(sms.PermanentSmsError, match="TWILIO_ACCOUNT_SID"):
        sms.TwilioBackend()


@pytest.mark.django_db
def test_an_sms_campaign_carries_the_opt_out_in_the_customers_language(customers, sms_outbox,
                                                                        django_capture_on_commit_callbacks):
    english = customers(email_opt_in=False, sms_opt_in=True, language="en", first_name="Sam")
    persian = customers(email_opt_in=False, sms_opt_in=True, language="fa", first_name="سارا")
    campaign = make_campaign(segments=[static_segment("s", [english, persian])], channel="sms",
                             sms_text_fa="سلام {{ first_name }}، حراج بهاره")
    send_everything(django_capture_on_commit_callbacks, campaign)
    texts = {entry["to"]: entry["text"] for entry in sms_outbox}
    assert texts[str(english.phone)] == "Hi Sam, spring sale at shop.example\nReply STOP to opt out"
    assert texts[str(persian.phone)].startswith(f"سلام {FSI}سارا{PDI}، حراج بهاره\n") and "لغو" in texts[str(persian.phone)]
    message = campaign.messages.get(customer=persian)
    assert message.sms_parts == sms_length(texts[str(persian.phone)]).parts and message.to_address == str(persian.phone)
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_email_has_html_and_text_parts_and_a_stable_message_id(customers, django_capture_on_commit_callbacks):
    campaign = make_campaign(segments=[static_segment("s", [customers(first_name="Ali")])])
    send_everything(django_capture_on_commit_callbacks, campaign)
    email, message = mail.outbox[0], campaign.messages.get()
    assert email.extra_headers["Message-ID"] == f"<{message.public_id.hex}@shop.example>"
    assert "Hi Ali, see the sale (https://crm.example.com/c/k/" in email.body
    assert email.alternatives[0][1] == "text/html" and 'href="https://crm.example.com/c/k/' in email.alternatives[0][0]
    assert message.provider_id == email.extra_headers["Message-ID"]
