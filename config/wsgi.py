"""WSGI entry point for gunicorn (`lockstep web`)."""

import os

from django.core.wsgi import get_wsgi_application

# `lockstep web` starts gunicorn with umask 077 already; gunicorn started some other way gets
# it here, before Django opens the database: what the web process creates is its user's alone.
os.umask(0o077)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")
application = get_wsgi_application()
