from django.core.management import BaseCommand, CommandError

from campaigns import tokens
from campaigns.views import SMS_REPORTERS


class Command(BaseCommand):
    help = "Print the delivery report URL to set in the SMS provider's panel (it holds a secret: keep it private)."

    def add_arguments(self, parser):
        parser.add_argument("provider", nargs="?", default="kavenegar", help=", ".join(SMS_REPORTERS))

    def handle(self, *args, provider, **options):
        if provider not in SMS_REPORTERS:
            raise CommandError(f"No delivery reports from {provider!r}; known: {', '.join(SMS_REPORTERS)}.")
        self.stdout.write(tokens.sms_callback_url(provider))
