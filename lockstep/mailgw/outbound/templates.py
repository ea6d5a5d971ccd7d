"""The words of Lockstep's mail: `render_mail(name, context)` renders `email/<name>/subject.txt`
and `email/<name>/body.txt` from the templates folder of the app that sends it (warehouse's
`warehouse/email/`).

Each message has one builder, a function in its app's `emails.py` that gathers the context
and returns a `MailSpec`; the text itself lives in the templates, so every mail reads the
same way and is changed in one place. Mail is plain text: the engine here escapes nothing
(the web pages' engine escapes HTML, which would turn a title's `&` into `&amp;` in a
mail). The subject is one line whatever the template's line breaks; the body ends with one
line break, however many the template's tags leave at its ends.

`LOCKSTEP_MAIL_IF_INVALID` is what a missing variable renders as: nothing in production, and
a marker in tests (`tests/unit/mailgw/test_mail_templates.py`), which fail on a template that
names a variable its builder does not give.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import NamedTuple

from django.conf import settings
from django.template import Context, Engine


class RenderedMail(NamedTuple):
    subject: str
    body: str


@functools.cache
def _engine(if_invalid: str) -> Engine:
    return Engine(app_dirs=True, autoescape=False, string_if_invalid=if_invalid)


def mail_engine() -> Engine:
    """The engine that renders mail: the apps' `templates/` folders, no HTML escaping."""
    return _engine(settings.LOCKSTEP_MAIL_IF_INVALID)


def render_mail(name: str, context: Mapping[str, object]) -> RenderedMail:
    """Render `email/<name>/subject.txt` and `body.txt` with `context`."""
    engine = mail_engine()
    values = Context(dict(context), autoescape=False)
    subject = engine.get_template(f"email/{name}/subject.txt").render(values)
    body = engine.get_template(f"email/{name}/body.txt").render(values)
    return RenderedMail(subject=" ".join(subject.split()), body=body.strip("\n") + "\n")
