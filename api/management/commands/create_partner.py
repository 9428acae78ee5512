from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction

from api import services
from api.models import Partner
from api.scopes import SCOPES, scopes_clean
from core.commands import AuditedCommand


class Command(AuditedCommand):
    help = "Create a partner (or reuse one of that name) and a new API key for it; the key is printed once."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--scopes", required=True, help=f"comma-separated: {', '.join(SCOPES)}")
        parser.add_argument("--own-data-only", action="store_true", help="the key sees only the partner's own customers")
        parser.add_argument("--contact", default="")

    def handle(self, *args, name, scopes, own_data_only, contact, **options):
        try:
            scopes = scopes_clean(scopes)
            with transaction.atomic():
                partner = Partner.objects.filter(name=name.strip()).first() or services.partner_create(name=name, contact=contact)
                key, secret = services.api_key_create(partner=partner, scopes=scopes, own_data_only=own_data_only)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stderr.write(f"Partner {partner.name}: key {key.prefix} with scopes {', '.join(key.scopes)}"
                          f"{' (own data only)' if key.own_data_only else ''}. It is shown once; store it now.")
        self.stdout.write(secret)
