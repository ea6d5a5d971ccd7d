"""/.well-known/security.txt for the instance, and one per project, from configuration.

RFC 9116 wants web URIs to be https. An instance reached over plain http (the embedded
mode on 127.0.0.1) therefore lists only configured contacts, and has no file without them.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from lockstep.core import clock
from lockstep.core.actor import from_request
from lockstep.intake.securitytxt import SecurityTxt, recommended_expires, render_security_txt
from lockstep.orgs.queries import list_keys_of_org
from lockstep.projects.queries import access_project_by_slug
from lockstep.web.errors import domain_errors

TEXT = "text/plain; charset=utf-8"
NO_FILE = (
    "No security.txt: set LOCKSTEP_SECURITY_CONTACTS, or serve Lockstep over https "
    "(LOCKSTEP_BASE_URL) so that its report form can be the contact.\n"
)


def _https(path: str) -> tuple[str, ...]:
    """The absolute URL of `path` if the instance is served over https, else nothing."""
    base = settings.LOCKSTEP_BASE_URL
    return (f"{base}{path}",) if base.startswith("https://") else ()


def _answer(doc: SecurityTxt) -> HttpResponse:
    if not doc.contacts:
        return HttpResponse(NO_FILE, content_type=TEXT, status=404)
    response = HttpResponse(render_security_txt(doc, now=clock.now()), content_type=TEXT)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def instance(_request: HttpRequest) -> HttpResponse:
    form = _https(reverse("web:report-choose"))
    encryption = settings.LOCKSTEP_SECURITY_ENCRYPTION
    return _answer(
        SecurityTxt(
            contacts=tuple(settings.LOCKSTEP_SECURITY_CONTACTS) or form,
            expires=recommended_expires(clock.now()),
            encryption=(encryption,) if encryption else (),
            policy=(settings.LOCKSTEP_SECURITY_POLICY,)
            if settings.LOCKSTEP_SECURITY_POLICY
            else form,
            preferred_languages=tuple(settings.LOCKSTEP_SECURITY_LANGUAGES),
            canonical=_https("/.well-known/security.txt"),
            comment=f"security.txt for {settings.LOCKSTEP_INSTANCE_NAME}",
        )
    )


@require_GET
@domain_errors
def project(request: HttpRequest, slug: str) -> HttpResponse:
    found = access_project_by_slug(from_request(request), slug)
    form = _https(reverse("web:report", args=[found.slug]))
    mail = (f"mailto:{found.security_email}",) if found.security_email else ()
    has_key = list_keys_of_org(found.upstream).exists()
    return _answer(
        SecurityTxt(
            contacts=mail + form,
            expires=recommended_expires(clock.now()),
            encryption=_https(reverse("web:project-key", args=[found.slug])) if has_key else (),
            policy=form,
            preferred_languages=tuple(settings.LOCKSTEP_SECURITY_LANGUAGES),
            canonical=_https(reverse("web:project-security-txt", args=[found.slug])),
            comment=f"security.txt for {found.name}, by {found.upstream.name}",
        )
    )


@require_GET
@domain_errors
def project_key(request: HttpRequest, slug: str) -> HttpResponse:
    """The upstream team's public OpenPGP key(s), for reporters who encrypt."""
    found = access_project_by_slug(from_request(request), slug)
    keys = list(list_keys_of_org(found.upstream))
    if not keys:
        return HttpResponse("No OpenPGP key on file.\n", content_type=TEXT, status=404)
    return HttpResponse("".join(key.armored for key in keys), content_type="application/pgp-keys")
