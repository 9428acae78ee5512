import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.utils.text import slugify

from campaigns.models import Segment
from campaigns.segments import segment_create, segment_update
from core.commands import AuditedCommand


class Command(AuditedCommand):
    help = "Create or update a dynamic segment from a JSON rules file (segments can live in version control)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--rules", required=True, type=Path, help='A JSON file: {"all": [{"field": ..., "op": ..., "value": ...}]}')
        parser.add_argument("--description", default="")

    def handle(self, *args, slug, name, rules, description, **options):
        try:
            data = json.loads(rules.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CommandError(f"{rules}: no such file.") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise CommandError(f"{rules}: not valid JSON ({error}).") from None
        except RecursionError:
            raise CommandError(f"{rules}: the JSON nests too deeply to be rules.") from None
        # The slug names the segment (segments can live in version control): update it when it exists.
        existing = Segment.objects.filter(slug=slugify(slug)).first()
        try:
            if existing is None:
                segment = segment_create(slug=slug, name=name, rules=data, description=description)
            else:
                segment = segment_update(segment=existing, name=name, kind=Segment.Kind.DYNAMIC, rules=data,
                                         description=description or None)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        verb = "Created" if existing is None else "Updated"
        self.stdout.write(f"{verb} segment {segment.slug}: {segment.size} customers.")
