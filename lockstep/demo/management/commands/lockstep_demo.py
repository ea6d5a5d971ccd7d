"""`lockstep demo`: fill an empty instance with the demo world, and print its logins (again,
on an instance that has it already: `lockstep serve --demo` after a restart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from typing_extensions import override

from lockstep.demo.world import DEMO_PASSWORD, build_demo_world, demo_logins


class Command(BaseCommand):
    help = "Create a demo world: an upstream project, three vendors, a private and a public list."

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        keys_dir = settings.DATA_DIR / "demo-keys"
        world = build_demo_world(keys_dir=keys_dir)
        if world.created:
            self.stdout.write("Demo world created. Every demo account's password is shown below;")
            self.stdout.write("they are for trying Lockstep out only.\n")
            self._logins(world.logins, keys_dir, changed="")
            return
        self.stdout.write("The demo world is already here; nothing changed. Its logins:\n")
        self._logins(demo_logins(), keys_dir, changed=" (unless someone changed it)")

    def _logins(self, logins: list[tuple[str, str]], keys_dir: Path, *, changed: str) -> None:
        for email, role in logins:
            self.stdout.write(f"  {email:<28} {role}")
        self.stdout.write(f"\n  password: {DEMO_PASSWORD}{changed}")
        if keys_dir.is_dir():
            self.stdout.write(f"  demo members' secret OpenPGP keys: {keys_dir}/")
