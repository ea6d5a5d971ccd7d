from django.apps import AppConfig
from typing_extensions import override


def _plan_case(case_id: int) -> None:
    from lockstep.advisories.tasks import plan_case  # noqa: PLC0415 - loads the whole app

    plan_case(case_id)


class AdvisoriesConfig(AppConfig):
    name = "lockstep.advisories"
    label = "advisories"
    default_auto_field = "django.db.models.BigAutoField"

    @override
    def ready(self) -> None:
        from lockstep.core import moments  # noqa: PLC0415 - needs the app registry

        moments.listen(_plan_case)
