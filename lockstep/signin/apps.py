from django.apps import AppConfig
from typing_extensions import override


class SigninConfig(AppConfig):
    name = "lockstep.signin"
    label = "signin"

    @override
    def ready(self) -> None:
        from lockstep.signin.signals import connect  # noqa: PLC0415 - models are ready now

        connect()
