"""First-run setup for `make run`: demo data when the database is empty, and one admin login."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.commands import AuditedCommand
from crm.models import Customer


class Command(AuditedCommand):
    help = "Load demo data into an empty database and create the first admin user (used by `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help="Demo customers to create when the database is empty.")

    def handle(self, *args, customers, **options):
        if Customer.objects.exists():
            self.stdout.write("Database already has customers; demo data not loaded.")
        else:
            self.stdout.write(f"Empty database: loading demo data ({customers} customers)...")
            call_command("seed_demo", customers=customers, seed=1, stdout=self.stdout)
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("Admin user exists (its password was printed on the first run; "
                              "reset it with `.venv/bin/python manage.py changepassword admin`).")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "admin@localhost", password)
        banner = "=" * 60
        self.stdout.write(self.style.SUCCESS(
            f"{banner}\nAdmin login (shown once): http://127.0.0.1:8000/admin/\n"
            f"  username: admin\n  password: {password}\n{banner}"
        ))
