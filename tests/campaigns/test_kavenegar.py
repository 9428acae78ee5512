"""SMS through Kavenegar, against a local fake of its HTTP API (a real server on 127.0.0.1 answering as
Kavenegar's REST API does), and its delivery reports on our signed callback URL."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from campaigns import sms, tokens
from campaigns.models import DeliveryEvent, Message
from campaigns.services.delivery import sms_delivery_poll
from core.timeline import customer_timeline
from tests.campaigns.helpers import make_campaign, send_everything, static_segment

pytestmark = pytest.mark.usefixtures("celery_eager")

API_KEY = "4D6B2F-test-key"


class FakeKavenegar:
    """sms/send.json and sms/status.json of https://api.kavenegar.com/v1/{API-KEY}/, in memory.
    A repeated localid answers the first message and sends nothing (as Kavenegar does)."""

    def __init__(self):
        self.sent: list[dict] = []  # what would have reached phones
        self.by_local_id: dict[str, dict] = {}
        self.statuses: dict[str, int] = {}  # messageid -> delivery status answered by status.json
        self.fail_next: list[int] = []  # return.status codes to answer instead of sending
        self.delay = 0.0
        self.ids = count(88000001)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                fields = {name: values[-1] for name, values in parse_qs(self.rfile.read(length).decode()).items()}
                status, body = fake.answer(urlsplit(self.path).path, fields)
                time.sleep(fake.delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def reply(status: int, message: str, entries=None):
        return status, {"return": {"status": status, "message": message}, "entries": entries}

    def answer(self, path: str, fields: dict):
        _empty, _v1, key, method = path.split("/", 3)
        if key != API_KEY:
            return self.reply(403, "کد شناسائی API-Key معتبر نمیباشد")
        if self.fail_next:
            return self.reply(self.fail_next.pop(0), "خطا")
        if method == "sms/send.json":
            if not fields.get("receptor", "").isdigit():
                return self.reply(411, "گیرنده نامعتبر است")
            local_id = fields.get("localid")
            if local_id and local_id in self.by_local_id:
                return self.reply(200, "تایید شد", [self.by_local_id[local_id]])
            entry = {"messageid": next(self.ids), "message": fields["message"], "status": 1, "statustext": "در صف ارسال",
                     "sender": fields.get("sender", ""), "receptor": fields["receptor"], "date": int(time.time()), "cost": 120}
            self.sent.append({**fields, "messageid": entry["messageid"]})
            if local_id:
                self.by_local_id[local_id] = entry
            return self.reply(200, "تایید شد", [entry])
        if method == "sms/status.json":
            entries = [{"messageid": int(mid), "status": self.statuses.get(mid, 4), "statustext": ""}
                       for mid in fields["messageid"].split(",")]
            return self.reply(200, "تایید شد", entries)
        return self.reply(404, "متد نامعتبر")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def kavenegar(settings):
    fake = FakeKavenegar()
    settings.SMS_BACKEND = "campaigns.sms.KavenegarBackend"
    settings.KAVENEGAR_API_KEY = API_KEY
    settings.KAVENEGAR_API_URL = fake.url
    settings.KAVENEGAR_SENDER = "10004346"
    settings.SMS_TIMEOUT_SECONDS = 1
    settings.SMS_DELIVERY_RETRIES = 1
    settings.SMS_CALLBACK_SECRET = "callback-secret"
    yield fake
    fake.close()


@pytest.fixture
def sent(kavenegar, customers, django_capture_on_commit_callbacks):
    people = [customers(email_opt_in=False, sms_opt_in=True, first_name=name) for name in ("Sam", "Tara")]
    campaign = make_campaign(segments=[static_segment("s", people)], channel="sms")
    send_everything(django_capture_on_commit_callbacks, campaign)
    return {message.customer.first_name: message for message in campaign.messages.select_related("customer")}


def report(message_id, status, *, token=None, provider="kavenegar"):
    url = f"/c/sms/{provider}/{token or tokens.sms_callback_token(provider)}/delivery/"
    return Client().post(url, {"messageid": str(message_id), "status": str(status)})


# --- sending -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_campaign_is_sent_through_kavenegar_with_its_message_id_kept(sent, kavenegar):
    assert len(kavenegar.sent) == 2
    by_receptor = {entry["receptor"]: entry for entry in kavenegar.sent}
    for message in sent.values():
        entry = by_receptor["0" + message.to_address[3:]]  # +98912... is sent as 0912...
        assert message.status == Message.Status.SENT and message.provider_id == str(entry["messageid"])
        assert entry["sender"] == "10004346" and entry["message"].startswith(f"Hi {message.customer.first_name}")
        assert entry["localid"] == sms.KavenegarBackend.local_id(message.public_id.hex)


@pytest.mark.django_db
def test_a_repeated_key_is_not_sent_twice(kavenegar):
    backend = sms.KavenegarBackend()
    first = backend.send("+989121234567", "Hello", "a" * 32)
    again = backend.send("+989121234567", "Hello", "a" * 32)
    assert first == again and len(kavenegar.sent) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status, error", [(418, sms.TransientSmsError), (409, sms.TransientSmsError),
                                           (500, sms.TransientSmsError), (412, sms.PermanentSmsError),
                                           (401, sms.PermanentSmsError)])
def test_kavenegar_errors_are_transient_or_permanent(kavenegar, status, error):
    kavenegar.fail_next = [status]
    with pytest.raises(error) as raised:
        sms.KavenegarBackend().send("+989121234567", "Hello", "b" * 32)
    assert str(status) in str(raised.value) and API_KEY not in str(raised.value)
    assert kavenegar.sent == []


@pytest.mark.django_db
def test_a_wrong_api_key_is_permanent_and_not_shown(kavenegar, settings):
    settings.KAVENEGAR_API_KEY = "not-the-key"
    with pytest.raises(sms.PermanentSmsError) as raised:
        sms.KavenegarBackend().send("+989121234567", "Hello", "c" * 32)
    assert "403" in str(raised.value) and "not-the-key" not in str(raised.value)


@pytest.mark.django_db
def test_no_answer_in_time_is_transient_and_the_retry_is_not_a_duplicate(kavenegar):
    kavenegar.delay = 1.5
    with pytest.raises(sms.TransientSmsError):
        sms.KavenegarBackend().send("+989121234567", "Hello", "d" * 32)
    kavenegar.delay = 0
    sms.KavenegarBackend().send("+989121234567", "Hello", "d" * 32)
    assert len(kavenegar.sent) == 1  # the timed-out request went through; the retry answered the same message


def test_an_unreachable_kavenegar_is_transient(settings):
    settings.KAVENEGAR_API_KEY, settings.KAVENEGAR_API_URL, settings.SMS_TIMEOUT_SECONDS = API_KEY, "http://127.0.0.1:9/v1", 1
    with pytest.raises(sms.TransientSmsError):
        sms.KavenegarBackend().send("+989121234567", "Hello", "e" * 32)


# --- delivery reports ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_delivery_report_marks_the_message_delivered_once(sent):
    sam = sent["Sam"]
    assert report(sam.provider_id, 10).status_code == 200
    assert report(sam.provider_id, 10).status_code == 200  # Kavenegar calls again: nothing new

    sam.refresh_from_db()
    assert sam.delivered_at and sam.status == Message.Status.SENT
    event = DeliveryEvent.objects.get()
    assert (event.message_id, event.kind, event.provider, event.provider_status) == (sam.pk, "delivered", "kavenegar", "10")
    assert [entry.extra["event"] for entry in customer_timeline(sam.customer) if entry.kind == "delivery"] == ["delivered"]


@pytest.mark.django_db
def test_the_report_counts_an_sms_delivered_once_kavenegar_reported_it(sent):
    from campaigns.selectors import campaign_report

    campaign = sent["Sam"].campaign
    # Kavenegar reports delivery: both are awaiting a report, neither is claimed delivered yet.
    assert (campaign_report(campaign).total.reported, campaign_report(campaign).total.delivered) == (2, 0)
    assert report(sent["Sam"].provider_id, 10).status_code == 200
    total = campaign_report(campaign).total
    assert (total.sent, total.reported, total.delivered, total.unreported) == (2, 2, 1, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["wrong", "0" * 40, tokens.sms_callback_token("twilio")])
def test_a_report_with_a_wrong_secret_is_refused_and_writes_nothing(sent, token):
    sam = sent["Sam"]
    assert report(sam.provider_id, 10, token=token).status_code == 403
    sam.refresh_from_db()
    assert sam.delivered_at is None and not DeliveryEvent.objects.exists()


@pytest.mark.django_db
def test_a_report_from_an_unknown_provider_is_refused(sent):
    assert report(sent["Sam"].provider_id, 10, provider="nobody", token="x").status_code == 403


@pytest.mark.django_db
def test_the_callback_url_changes_with_its_secret(settings, kavenegar):
    before = tokens.sms_callback_url("kavenegar")
    settings.SMS_CALLBACK_SECRET = "rotated"
    after = tokens.sms_callback_url("kavenegar")
    assert before != after and after.startswith("https://crm.example.com/c/sms/kavenegar/")


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [{}, {"messageid": "12"}, {"messageid": "x1", "status": "10"}, {"messageid": "1", "status": ""}])
def test_a_report_without_a_message_id_or_status_is_a_400(sent, fields):
    url = f"/c/sms/kavenegar/{tokens.sms_callback_token('kavenegar')}/delivery/"
    response = Client().post(url, fields)
    assert response.status_code == 400 and not DeliveryEvent.objects.exists()
    assert (b"messageid" if "x1" in str(fields) or not fields else b"status") in response.content


@pytest.mark.django_db
def test_a_report_about_an_unknown_message_is_answered_200_and_ignored(sent):
    assert report(99999999, 10).status_code == 200
    assert not DeliveryEvent.objects.exists()


@pytest.mark.django_db
def test_an_undelivered_sms_is_sent_again_then_marked_failed_with_the_reason(sent, kavenegar,
                                                                               django_capture_on_commit_callbacks):
    tara = sent["Tara"]
    with django_capture_on_commit_callbacks(execute=True):
        assert report(tara.provider_id, 11).status_code == 200

    tara.refresh_from_db()
    assert tara.status == Message.Status.SENT and tara.delivery_retries == 1
    assert len(kavenegar.sent) == 3 and tara.provider_id == str(kavenegar.sent[-1]["messageid"])
    assert kavenegar.sent[-1]["localid"] != kavenegar.sent[0]["localid"]  # a new key, or Kavenegar would drop it
    first = DeliveryEvent.objects.get()
    assert (first.kind, first.outcome) == ("failed", DeliveryEvent.Outcome.RETRIED)

    with django_capture_on_commit_callbacks(execute=True):
        report(tara.provider_id, 11)
    tara.refresh_from_db()
    assert tara.status == Message.Status.FAILED and tara.failed_at and "not delivered" in tara.error.lower()
    assert len(kavenegar.sent) == 3  # SMS_DELIVERY_RETRIES = 1
    tara.campaign.refresh_from_db()
    assert tara.campaign.failed_count == 1


@pytest.mark.django_db
def test_an_sms_the_recipient_blocks_is_failed_at_once(sent, kavenegar):
    sam = sent["Sam"]
    report(sam.provider_id, 14)
    sam.refresh_from_db()
    assert sam.status == Message.Status.FAILED and "blocked" in sam.error and sam.delivery_retries == 0
    assert len(kavenegar.sent) == 2


@pytest.mark.django_db
def test_pending_states_are_not_recorded(sent):
    assert report(sent["Sam"].provider_id, 4).status_code == 200
    assert not DeliveryEvent.objects.exists()


@pytest.mark.django_db
def test_the_poll_asks_status_json_for_reports_that_never_came(sent, kavenegar):
    sam, tara = sent["Sam"], sent["Tara"]
    kavenegar.statuses = {sam.provider_id: 10}

    assert sms_delivery_poll() == {"asked": 2, "recorded": 1}
    sam.refresh_from_db()
    assert sam.delivered_at and DeliveryEvent.objects.get().message_id == sam.pk
    assert sms_delivery_poll() == {"asked": 1, "recorded": 0}  # Tara's is still on its way
