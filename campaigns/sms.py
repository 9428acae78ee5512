"""SMS: a small backend interface, message length and encoding, and E.164 numbers.

A backend is a class with `send(to_e164, text, idempotency_key) -> provider_id`; the
setting SMS_BACKEND names it (dotted path). The default `FileBackend` writes one JSON line
per message under SMS_FILE_PATH (VAR_DIR/sms/), so a laptop needs no provider;
`TwilioBackend` talks to Twilio's REST API over HTTPS with urllib (no SDK), `KavenegarBackend`
to Kavenegar's (Iran) with requests; a backend that can report delivery also has
`delivery_statuses(provider_ids) -> {provider_id: DeliveryReport}`.

Errors: `TransientSmsError` (the provider is down or throttling, the message was
certainly not sent: retry later) and `PermanentSmsError` (a bad number, a refused
message, or an answer we could not read after the request went out: do not retry).
An ambiguous failure is permanent on purpose: at the provider boundary we choose
at-most-once (see campaigns/services/sending.py), because Twilio's API takes no
idempotency key and a retried request could deliver the message twice.

Length: an SMS is 140 bytes. Text that fits the GSM-7 alphabet gets 160 characters in a
single message and 153 per part when concatenated (the rest is the UDH header);
anything else (Persian, Arabic, emoji) is sent as UCS-2: 70 characters single, 67 per
part. Characters of the GSM-7 extension table (^{}\\[~]|€) take two septets, and a
character outside the BMP takes two UCS-2 units; neither is split across parts.
"""

import base64
import hashlib
import json
import logging
import os
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
import requests
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
_GSM7_BASIC_SET = frozenset(GSM7_BASIC)
_GSM7_EXTENSION_SET = frozenset(GSM7_EXTENSION)

GSM7, UCS2 = "GSM-7", "UCS-2"
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}  # (single message, each part of a long one)


class SmsError(Exception):
    pass


class TransientSmsError(SmsError):
    """Not sent; sending again later is safe."""


class PermanentSmsError(SmsError):
    """Not sent (or not known to be sent); do not retry automatically."""


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # GSM-7 or UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int
    per_part: int  # the limit that applied: 160/153 or 70/67

    @property
    def remaining(self) -> int:
        """Units left in the last part before one more part is needed."""
        return self.parts * self.per_part - self.units if self.units else self.per_part


def sms_encoding(text: str) -> str:
    return GSM7 if all(char in _GSM7_BASIC_SET or char in _GSM7_EXTENSION_SET for char in text) else UCS2


def _unit_sizes(text: str, encoding: str) -> list[int]:
    if encoding == GSM7:
        return [2 if char in _GSM7_EXTENSION_SET else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def sms_length(text: str) -> SmsLength:
    """How many parts `text` is sent in, and in which encoding."""
    encoding = sms_encoding(text)
    sizes = _unit_sizes(text, encoding)
    single, multi = LIMITS[encoding]
    units = sum(sizes)
    if units <= single:
        return SmsLength(encoding, units, 1 if units else 0, single)
    # Split as the phone does: an escape pair or a surrogate pair never straddles two parts.
    parts, used = 1, 0
    for size in sizes:
        if used + size > multi:
            parts, used = parts + 1, 0
        used += size
    return SmsLength(encoding, units, parts, multi)


def normalize_e164(number: str, *, region: str | None = None) -> str:
    """A phone number in E.164 (+989121234567); PermanentSmsError when it is not a valid number."""
    try:
        parsed = phonenumbers.parse(str(number), region or settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise PermanentSmsError(f"{number!r} is not a phone number.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise PermanentSmsError(f"{number!r} is not a valid phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def get_backend_class(path: str | None = None) -> type:
    return import_string(path or settings.SMS_BACKEND)


def get_backend(path: str | None = None):
    return get_backend_class(path)()


def send_sms(*, to: str, text: str, idempotency_key: str, backend=None) -> str:
    """Send one SMS through the configured backend; returns the provider's message id."""
    if not text.strip():
        raise PermanentSmsError("The SMS text is empty.")
    return (backend or get_backend()).send(normalize_e164(to), text, idempotency_key)


class BaseBackend:
    # True when the provider itself refuses a second message with the same idempotency key.
    supports_idempotency = False

    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        raise NotImplementedError


class FileBackend(BaseBackend):
    """One JSON line per SMS in SMS_FILE_PATH/sms-YYYY-MM-DD.jsonl (development and tests)."""

    _lock = threading.Lock()

    def __init__(self, path: str | None = None):
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        length = sms_length(text)
        record = {
            "id": f"file-{idempotency_key}", "to": to_e164, "text": text, "idempotency_key": idempotency_key,
            "encoding": length.encoding, "parts": length.parts, "at": timezone.now().isoformat(),
        }
        self.path.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        target = self.path / f"sms-{timezone.localdate().isoformat()}.jsonl"
        # One write() on an O_APPEND descriptor: lines from several worker processes do not interleave.
        with self._lock:
            descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(descriptor, line)
            finally:
                os.close(descriptor)
        return record["id"]


class ConsoleBackend(BaseBackend):
    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        length = sms_length(text)
        log.info("SMS to %s (%s, %s part(s)) [%s]: %s", to_e164, length.encoding, length.parts, idempotency_key, text)
        return f"console-{idempotency_key}"


class LocmemBackend(BaseBackend):
    """Keeps each SMS in `LocmemBackend.outbox` (tests)."""

    outbox: list[dict] = []

    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        self.outbox.append({"to": to_e164, "text": text, "idempotency_key": idempotency_key})
        return f"locmem-{len(self.outbox)}"


class TwilioBackend(BaseBackend):
    """Twilio Programmable Messaging: POST /2010-04-01/Accounts/{sid}/Messages.json.

    Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, and SMS_SENDER (a number or sender id)
    or TWILIO_MESSAGING_SERVICE_SID. Twilio splits long text itself and bills per part."""

    api_root = "https://api.twilio.com/2010-04-01"

    def __init__(self):
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        if not (self.account_sid and self.auth_token):
            raise PermanentSmsError("Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to send SMS through Twilio.")
        if not (settings.SMS_SENDER or settings.TWILIO_MESSAGING_SERVICE_SID):
            raise PermanentSmsError("Set SMS_SENDER or TWILIO_MESSAGING_SERVICE_SID to send SMS through Twilio.")

    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        fields = {"To": to_e164, "Body": text}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            fields["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            fields["From"] = settings.SMS_SENDER
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(
            f"{self.api_root}/Accounts/{urllib.parse.quote(self.account_sid)}/Messages.json",
            data=urllib.parse.urlencode(fields).encode(),
            headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/x-www-form-urlencoded",
                     "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310 - api_root is a fixed https URL
                payload = json.loads(response.read().decode() or "{}")
        except urllib.error.HTTPError as error:
            raise self._http_error(error) from None
        except (TimeoutError, socket.timeout):
            # The request may have reached Twilio: sending again could deliver it twice.
            raise PermanentSmsError("Twilio did not answer in time; delivery unknown (not retried).") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, (TimeoutError, socket.timeout)):
                raise PermanentSmsError("Twilio did not answer in time; delivery unknown (not retried).") from None
            # DNS, refused connection, TLS handshake: nothing reached Twilio.
            raise TransientSmsError(f"Could not reach Twilio: {error.reason}") from None
        except ValueError:
            raise PermanentSmsError("Twilio's answer was not JSON; delivery unknown (not retried).") from None
        sid = payload.get("sid")
        if not sid:
            raise PermanentSmsError(f"Twilio accepted the request but returned no message sid: {payload!r:.200}")
        return sid

    @staticmethod
    def _http_error(error: urllib.error.HTTPError) -> SmsError:
        try:
            body = json.loads(error.read().decode() or "{}")
        except (ValueError, OSError):
            body = {}
        detail = f"Twilio {error.code}: {body.get('message') or error.reason} (code {body.get('code', '-')})"
        # 429 (too many requests) and 5xx: Twilio did not create the message; try again later.
        if error.code == 429 or error.code >= 500:
            return TransientSmsError(detail)
        return PermanentSmsError(detail)


@dataclass(frozen=True)
class DeliveryReport:
    """What the operator says about one SMS, normalized: "delivered", "failed" (may succeed if sent
    again: the phone was off, the operator erred), "refused" (will not succeed: blocked by the
    recipient, cancelled), or "pending"."""

    state: str
    provider_status: str
    reason: str = ""


class KavenegarBackend(BaseBackend):
    """Kavenegar (https://kavenegar.com/rest.html): POST {KAVENEGAR_API_URL}/{API-KEY}/sms/send.json with
    receptor, sender, message and localid; the answer is {"return": {"status": 200, "message": ...},
    "entries": [{"messageid": ..., "status": ...}]}. Delivery: the callback URL set in Kavenegar's panel
    (campaigns.views.sms_delivery) and sms/status.json (`delivery_statuses`).

    Kavenegar answers a repeated `localid` with the first message instead of sending it again, so a
    timed-out request, or a message left "sending" by a dead worker, can be sent again safely."""

    provider_name = "kavenegar"
    supports_idempotency = True
    # return.status codes after which sending again later can succeed: 409 the server cannot answer now,
    # 418 not enough credit (until the account is topped up), 429 and 5xx.
    TRANSIENT_STATUSES = frozenset({409, 418, 429})
    # Delivery status codes of sms/status.json and the callback.
    DELIVERED = {"10": ""}
    FAILED = {"6": "the operator reported an error", "11": "not delivered to the recipient (phone off or out of reach)"}
    REFUSED = {"13": "cancelled", "14": "blocked: the recipient refuses messages from advertising lines",
               "100": "unknown message id"}

    def __init__(self):
        self.api_key = settings.KAVENEGAR_API_KEY
        self.sender = settings.KAVENEGAR_SENDER or settings.SMS_SENDER
        if not self.api_key:
            raise PermanentSmsError("Set KAVENEGAR_API_KEY to send SMS through Kavenegar.")

    def _url(self, method: str) -> str:
        return f"{settings.KAVENEGAR_API_URL}/{urllib.parse.quote(self.api_key, safe='')}/{method}"

    @staticmethod
    def receptor(to_e164: str) -> str:
        """Kavenegar's form of a number: 09121234567 in Iran, 00<country><number> elsewhere."""
        return "0" + to_e164[3:] if to_e164.startswith("+98") else "00" + to_e164.lstrip("+")

    @staticmethod
    def local_id(idempotency_key: str) -> str:
        # Kavenegar's localid is a number: 60 bits of our key (a UUID's hex, maybe with a retry suffix).
        return str(int(hashlib.sha256(idempotency_key.encode()).hexdigest()[:15], 16))

    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        fields = {"receptor": self.receptor(to_e164), "message": text, "localid": self.local_id(idempotency_key)}
        if self.sender:
            fields["sender"] = self.sender
        payload = self._call("sms/send.json", fields)
        entries = payload.get("entries") or []
        message_id = entries[0].get("messageid") if entries and isinstance(entries[0], dict) else None
        if not message_id:
            raise PermanentSmsError(f"Kavenegar accepted the request but returned no message id: {payload!r:.200}")
        return str(message_id)

    def delivery_statuses(self, provider_ids: list[str]) -> dict[str, DeliveryReport]:
        """The delivery state of up to 500 messages, by Kavenegar's message id (sms/status.json)."""
        if not provider_ids:
            return {}
        payload = self._call("sms/status.json", {"messageid": ",".join(provider_ids[:500])})
        return {str(entry.get("messageid")): self.report(str(entry.get("status")), entry.get("statustext") or "")
                for entry in payload.get("entries") or [] if isinstance(entry, dict)}

    @classmethod
    def report(cls, status: str, text: str = "") -> DeliveryReport:
        for state, table in (("delivered", cls.DELIVERED), ("failed", cls.FAILED), ("refused", cls.REFUSED)):
            if status in table:
                return DeliveryReport(state, status, (text or table[status])[:500])
        return DeliveryReport("pending", status, text[:500])

    def _call(self, method: str, fields: dict) -> dict:
        try:
            response = requests.post(self._url(method), data=fields, timeout=settings.SMS_TIMEOUT_SECONDS,
                                     headers={"Accept": "application/json"})
        except requests.Timeout:
            # Safe to send again: Kavenegar drops a repeated localid.
            raise TransientSmsError("Kavenegar did not answer in time.") from None
        except requests.RequestException as error:
            raise TransientSmsError(f"Could not reach Kavenegar: {type(error).__name__}") from None
        try:
            payload = response.json()
            status = int((payload.get("return") or {}).get("status", response.status_code))
            detail = str((payload.get("return") or {}).get("message", ""))
        except (ValueError, TypeError, AttributeError):
            payload, status, detail = {}, response.status_code, response.reason
        if status == 200 and response.ok:
            return payload
        # The URL holds the API key: never put it in an error message.
        error = f"Kavenegar {status}: {detail or response.reason}"[:500]
        if status in self.TRANSIENT_STATUSES or status >= 500 or response.status_code >= 500:
            raise TransientSmsError(error)
        raise PermanentSmsError(error)
