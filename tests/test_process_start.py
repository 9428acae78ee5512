"""A process that serves or runs commands keeps Django's start-up objects out of the collector's full passes."""

import gc
import importlib

from core.commands import AuditedCommand


def test_the_wsgi_application_loads_and_freezes_what_start_up_built():
    from config import wsgi

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    importlib.reload(wsgi)
    assert callable(wsgi.application)
    assert gc.get_freeze_count() > 0


class Command(AuditedCommand):
    def handle(self, *args, **options):
        self.ran = True


def test_a_command_freezes_from_the_command_line_only():
    gc.unfreeze()
    command = Command()
    command.execute(force_color=False, no_color=True, skip_checks=True)  # as call_command: the caller is left as it is
    assert gc.get_freeze_count() == 0

    command.run_from_argv(["manage.py", "example"])
    assert command.ran and gc.get_freeze_count() > 0
    gc.unfreeze()
