import sys

from django.core.exceptions import ValidationError
from django.core.management import CommandError

from core.commands import AuditedCommand
from crm.models import Customer
from crm.privacy import customer_erase, customer_find


class Command(AuditedCommand):
    help = ("Erase (anonymise) a customer for good: personal fields and free text removed, the email and phone "
            "suppressed; orders, points and return amounts stay. REF: public id, email or external reference.")

    def add_arguments(self, parser):
        parser.add_argument("ref", help="The customer's public id, email or external reference.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, ref, yes=False, **options):
        try:
            customer = customer_find(ref)
        except Customer.DoesNotExist:
            raise CommandError(f"No customer with the public id, email or external reference {ref!r}.", returncode=1) from None
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Refusing to erase without confirmation: run on a terminal or pass --yes.", returncode=1)
            answer = input(f"Erase customer {customer.public_id} ({customer})? This cannot be undone. Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("Not erased.", returncode=1)
        try:
            customer_erase(customer=customer, by=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages), returncode=1) from None
        self.stdout.write(f"Erased customer {customer.public_id}.")
