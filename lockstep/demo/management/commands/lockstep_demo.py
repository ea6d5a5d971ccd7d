"""`lockstep demo`: fill an empty instance with the demo world."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from typing_extensions import override

from lockstep.demo.world import DEMO_PASSWORD, build_demo_world


class Command(BaseCommand):
    help = "Create a demo world: an upstream project, three vendors, a private and a public list."

    @override
    def handle(self, *args: Any, **options: Any) -> None:
        keys_dir = settings.DATA_DIR / "demo-keys"
        world = build_demo_world(keys_dir=keys_dir)
        if not world.created:
            self.stdout.write("The demo world is already here; nothing changed.")
            return
        self.stdout.write("Demo world created. Every demo account's password is shown below;")
        self.stdout.write("they are for trying Lockstep out only.\n")
        for email, role in world.logins:
            self.stdout.write(f"  {email:<28} {role}")
        self.stdout.write(f"\n  password: {DEMO_PASSWORD}")
        self.stdout.write(f"  demo members' secret OpenPGP keys: {keys_dir}/")
