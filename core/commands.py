"""The base of every management command of the project that changes data.

A command runs as an audited entry point (core.audit): what it changes records the source
"command: <name>" and no staff user, unless a service was given one (`by`). The name is the
command's own (its module's), so `call_command` from a test or a script records the same.
"""

from django.core.management.base import BaseCommand

from core.audit import command_source, history_source


class AuditedCommand(BaseCommand):
    @property
    def command_name(self) -> str:
        return type(self).__module__.rpartition(".")[2]

    def execute(self, *args, **options):
        with history_source(command_source(self.command_name)):
            return super().execute(*args, **options)
