from pathlib import Path

from django.core.management import CommandError

from core.audit import current_source
from core.commands import AuditedCommand
from crm.access import access_log
from crm.models import Customer, CustomerAccess
from crm.privacy import customer_find, export_json


class Command(AuditedCommand):
    help = "Write everything held about a customer as one JSON document (REF: public id, email or external reference)."

    def add_arguments(self, parser):
        parser.add_argument("ref", help="The customer's public id, email or external reference.")
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")

    def handle(self, *args, ref, output=None, **options):
        try:
            customer = customer_find(ref)
        except Customer.DoesNotExist:
            raise CommandError(f"No customer with the public id, email or external reference {ref!r}.", returncode=1) from None
        access_log(customer=customer, action=CustomerAccess.Action.EXPORTED, by=None, source=current_source())
        text = export_json(customer)
        if output:
            path = Path(output)
            path.write_text(text + "\n", encoding="utf-8")
            # The file holds personal data: readable by its owner only.
            path.chmod(0o600)
            self.stderr.write(f"Wrote the export of customer {customer.public_id} to {path}.")
        else:
            self.stdout.write(text)
