"""Verify the cached points balances against the ledger, and rebuild them with --rebuild."""

from django.core.management import CommandError

from club.models import Membership
from club.services import points_rebuild_balances, points_verify_balances
from core.commands import AuditedCommand


class Command(AuditedCommand):
    help = "Check every member's cached points figures against the ledger; --rebuild sets them from it."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Set the cached figures from the ledger.")

    def handle(self, *args, **options):
        if options["rebuild"]:
            fixed = points_rebuild_balances()
            self.stdout.write(self.style.SUCCESS(f"Rebuilt {fixed} membership(s) from the ledger."))
            return
        wrong = list(points_verify_balances()[:50])
        if not wrong:
            self.stdout.write(self.style.SUCCESS(f"All {Membership.objects.count()} balances agree with the ledger."))
            return
        for member in wrong:
            self.stdout.write(
                f"{member.member_number}: balance {member.points_balance} (ledger {member.ledger_balance}), "
                f"pending {member.pending_points} ({member.ledger_pending}), "
                f"shortfall {member.points_shortfall} ({member.ledger_shortfall})"
            )
        raise CommandError(f"{points_verify_balances().count()} membership(s) disagree with the ledger; run with --rebuild.")
