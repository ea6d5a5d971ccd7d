from django.apps import AppConfig
from typing_extensions import override


class MailgwConfig(AppConfig):
    name = "lockstep.mailgw"
    label = "mailgw"
    default_auto_field = "django.db.models.BigAutoField"

    @override
    def ready(self) -> None:
        from lockstep.mailgw.outbound.tasks import release_claims_of  # noqa: PLC0415 - models
        from lockstep.ops.recovery import on_lost_work  # noqa: PLC0415 - needs the app registry

        on_lost_work(release_claims_of)
