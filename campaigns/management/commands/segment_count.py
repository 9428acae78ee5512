from django.core.management import BaseCommand, CommandError

from campaigns.models import Segment
from campaigns.segments import segment_members_refresh


class Command(BaseCommand):
    help = "Print the number of customers in a segment."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        segment = Segment.objects.filter(slug=slug).first()
        if segment is None:
            raise CommandError(f"No segment with the slug {slug!r}.")
        self.stdout.write(str(segment_members_refresh(segment=segment)))
