#!/usr/bin/env python3
"""Django's command-line utility (the `lockstep` command wraps the same commands)."""

import os
import sys

if __name__ == "__main__":
    os.umask(0o077)  # what it creates in the data folder is its user's alone, as with `lockstep`
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
