from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from typing_extensions import override

from lockstep.core import clock

if TYPE_CHECKING:
    from lockstep.cases.models import Post
    from lockstep.core.actor import Actor


def _tell_reporter_of_post(post: Post, actor: Actor) -> None:
    from lockstep.intake.news import tell_reporter_of_post  # noqa: PLC0415 - needs the models

    tell_reporter_of_post(post, actor=actor, now=clock.now())


class IntakeConfig(AppConfig):
    name = "lockstep.intake"
    label = "intake"
    default_auto_field = "django.db.models.BigAutoField"

    @override
    def ready(self) -> None:
        from lockstep.cases import reporter_news  # noqa: PLC0415 - needs the app registry

        reporter_news.listen(_tell_reporter_of_post)
