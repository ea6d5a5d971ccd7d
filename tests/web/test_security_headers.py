"""Headers and errors a security team checks first: a strict Content-Security-Policy with a
nonce, no inline script, style or handler in any template, RFC 6266 file names, and a 400
(not a 500) for a page number past any list. (No `Server:` banner and no tracking token in
the access log: tests/flows/test_served_headers.py, against gunicorn itself.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from lockstep.cases.actions.posts import do_add_post
from lockstep.cases.queries import access_case_by_id
from lockstep.channels.models import ChannelKind
from lockstep.core.uploads import UploadedFile
from tests.conftest import actor_for
from tests.factories.cases import build_case_world
from tests.factories.signin import sign_in
from tests.factories.world import ChannelFactory

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "lockstep" / "web" / "templates"
HUGE = "99999999999999999999"


def _policy(response: object) -> dict[str, list[str]]:
    header: str = response["Content-Security-Policy"]  # type: ignore[index]
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


def test_every_page_carries_a_strict_policy_with_the_pages_nonce(client: Client) -> None:
    page = client.get("/login/")
    policy = _policy(page)
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]
    assert "'unsafe-eval'" not in page["Content-Security-Policy"]
    nonce = re.search(r'<script [^>]*nonce="([^"]+)"', page.content.decode())
    assert nonce is not None
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce.group(1)}'"]
    # A new nonce for every answer.
    assert _policy(client.get("/login/"))["script-src"] != policy["script-src"]


def test_no_template_has_inline_script_style_or_event_handler() -> None:
    found = []
    patterns = {
        "event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
        "inline style": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
        "style element": re.compile(r"<style\b", re.IGNORECASE),
        "script without src": re.compile(r"<script(?![^>]*\ssrc=)", re.IGNORECASE),
        "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    }
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        found += [f"{template.name}: {what}" for what, p in patterns.items() if p.search(text)]
    assert found == []


def test_an_attachment_name_outside_ascii_is_sent_as_rfc_6266_says(client: Client) -> None:
    world = build_case_world()
    actor = actor_for(world.vendor_user)
    access = access_case_by_id(actor, world.case.pk)
    post = do_add_post(
        access,
        body="The patch.",
        files=[UploadedFile("größe fix.patch", "text/x-diff", b"--- a\n+++ b\n")],
        actor=actor,
    )
    client.force_login(world.vendor_user)
    answer = client.get(f"/cases/{world.case.pk}/attachments/{post.attachments.get().pk}/")
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == (
        "attachment; filename=\"gr__e fix.patch\"; filename*=UTF-8''gr%C3%B6%C3%9Fe%20fix.patch"
    )
    ascii_name = do_add_post(
        access, body="Another.", files=[UploadedFile("fix.patch", "", b"x")], actor=actor
    )
    plain = client.get(f"/cases/{world.case.pk}/attachments/{ascii_name.attachments.get().pk}/")
    assert plain["Content-Disposition"] == 'attachment; filename="fix.patch"'


def test_a_page_number_past_any_list_is_400_and_an_id_past_any_row_404(client: Client) -> None:
    ChannelFactory(name="oss-security", slug="oss-security", kind=ChannelKind.PUBLIC)
    for path in ("/search/?q=a&page=", "/advisories/?page=", "/lists/oss-security/?page="):
        assert client.get(f"{path}{HUGE}").status_code == 400, path
        assert client.get(f"{path}2").status_code == 200, path
        assert client.get(f"{path}²").status_code == 200, path  # not a plain number: page 1
    world = build_case_world()
    client.force_login(world.vendor_user)
    room = f"/cases/{world.case.pk}/"
    assert client.get(f"{room}?page={HUGE}").status_code == 400
    assert client.get(f"{room}?posts={HUGE}").status_code == 400
    assert client.get(f"{room}?page=3&posts=2").status_code == 200
    # An id past what the database holds names no page.
    assert client.get(f"/cases/{HUGE}/").status_code == 404
    assert client.get(f"/cases/{world.case.pk}/attachments/{HUGE}/").status_code == 404
    lead = sign_in(Client(), world.maintainer)
    remove = {"action": "remove", "participant": HUGE}
    assert lead.post(f"{room}participants/", remove).status_code == 404
    decide = {"action": "decide-extension", "request": HUGE, "decision": "grant"}
    refused = lead.post(f"{room}embargo/", decide, follow=True)
    assert refused.status_code == 200
    assert b"Pick an item first." in refused.content
