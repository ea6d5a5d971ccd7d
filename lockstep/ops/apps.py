from django.apps import AppConfig
from django.db.backends.signals import connection_created
from typing_extensions import override


class OpsConfig(AppConfig):
    name = "lockstep.ops"
    label = "ops"
    default_auto_field = "django.db.models.BigAutoField"

    @override
    def ready(self) -> None:
        from lockstep.ops.datadir import keep_sqlite_private  # noqa: PLC0415 - needs settings

        # Whatever the umask, an SQLite database is its owner's alone (lockstep.ops.datadir).
        connection_created.connect(keep_sqlite_private, dispatch_uid="lockstep-sqlite-private")
