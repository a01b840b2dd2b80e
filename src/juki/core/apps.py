import os
import stat

from django.apps import AppConfig


def _owner_only(sender, connection, **kwargs):
    """An SQLite file readable by others (created by an older version, or copied) is narrowed to
    0600 when opened, with its -wal and -shm files: the register is personal data."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    for path in (name, name + "-wal", name + "-shm"):
        try:
            if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
                os.chmod(path, 0o600)
        except FileNotFoundError:
            pass


class CoreConfig(AppConfig):
    name = "juki.core"
    label = "core"

    def ready(self):
        from django.db.backends.signals import connection_created

        from . import converters, schema  # noqa: F401 (schema: the token scheme's OpenAPI extension)

        converters.register()  # `<id:…>` in every app's URLs (before any urls module is imported)
        connection_created.connect(_owner_only, dispatch_uid="juki.core.sqlite_owner_only")
