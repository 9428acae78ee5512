"""The files a laptop installation needs before any process starts (`make run`, `make migrate`).

    .venv/bin/python -m config.local_files

Importing the settings writes nothing, so this makes what they point at: VAR_DIR, the SQLite
database's folder (Django does not create it) and, in development with no SECRET_KEY in the
environment, one random key in var/secret_key that the web server and the worker share and that
survives restarts. Running it again changes nothing.
"""

import os
import secrets
import sys
from pathlib import Path


def prepare_local_files() -> list[Path]:
    """Make the missing folders and files; returns what was created."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    created = []

    def folder(path: Path) -> None:
        if not path.is_dir():
            path.mkdir(parents=True, exist_ok=True)
            created.append(path)

    folder(Path(settings.VAR_DIR))
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and not str(database["NAME"]).startswith(("file:", ":memory:")):
        folder(Path(database["NAME"]).parent)
    key_file = Path(settings.DEV_SECRET_KEY_FILE)
    if settings.DEBUG and not os.environ.get("SECRET_KEY") and not key_file.exists():
        folder(key_file.parent)
        # Created with its final permissions, so the key is never readable by others, even briefly.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        created.append(key_file)
    return created


if __name__ == "__main__":
    for path in prepare_local_files():
        sys.stdout.write(f"created {path}\n")
