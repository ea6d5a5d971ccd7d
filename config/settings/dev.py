"""Local development: DEBUG on unless `LOCKSTEP_DEBUG` says otherwise."""

from __future__ import annotations

from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool

DEBUG = env_bool("LOCKSTEP_DEBUG", default=True)
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
