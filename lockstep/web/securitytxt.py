"""/.well-known/security.txt for the instance, and one per project, from configuration.

RFC 9116 wants web URIs to be https. An instance reached over plain http (the embedded
mode on 127.0.0.1) therefore lists only configured contacts and mail addresses, and has no
file without them.

A project's file names the routes through Lockstep, most preferred first: mail to
security-<project>@<mail domain>, then the report form. `Encryption:` is the key that
decrypts that mail, the list key: as a download that carries the project's address as a user
ID (so `gpg -e -r security-<project>@…` works right after importing it) and by fingerprint.
The same key is in the Web Key Directory (lockstep.web.wkd). Only where Lockstep takes no
mail (`LOCKSTEP_MAIL_DOMAIN` left at its `.invalid` default, or a slug no address can
spell) does the file name the upstream's own address and key instead; the two routes are
never mixed, since `Encryption:` cannot say which key goes with which address.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from lockstep.core import clock
from lockstep.core.actor import from_request
from lockstep.core.links import absolute, is_https
from lockstep.intake.securitytxt import SecurityTxt, recommended_expires, render_security_txt
from lockstep.mailgw.addresses import AddressKind, parse_address, report_address
from lockstep.mailgw.outbound.protect import list_public_key, list_secret_key
from lockstep.mailgw.wkd import armored_certificate_for, fingerprint
from lockstep.orgs.queries import list_keys_of_org
from lockstep.projects.models import Project
from lockstep.projects.queries import access_project_by_slug
from lockstep.web.errors import domain_errors

TEXT = "text/plain; charset=utf-8"
NO_FILE = (
    "No security.txt: set LOCKSTEP_SECURITY_CONTACTS, or serve Lockstep over https "
    "(LOCKSTEP_BASE_URL) so that its report form can be the contact.\n"
)
KEYS = "application/pgp-keys; charset=us-ascii"


def _https(path: str) -> tuple[str, ...]:
    """The absolute URL of `path` if the instance is served over https, else nothing."""
    return (absolute(path),) if is_https() else ()


def _takes_mail() -> bool:
    """Whether Lockstep has a mail domain: the default, under .invalid, never resolves."""
    return not str(settings.LOCKSTEP_MAIL_DOMAIN).lower().endswith(".invalid")


def _report_address(project: Project) -> str:
    """security-<project>@<mail domain>, if Lockstep takes mail and the slug can be spelt."""
    if not _takes_mail():
        return ""
    address = report_address(project.slug)
    parsed = parse_address(address)
    if parsed is None or parsed.kind != AddressKind.REPORT or parsed.value != project.slug:
        return ""
    return address


def _list_key(download: str) -> tuple[str, ...]:
    """`Encryption:` values for the list key: where to download it, and its fingerprint."""
    return (*_https(download), f"openpgp4fpr:{fingerprint(list_public_key())}")


def _answer(doc: SecurityTxt) -> HttpResponse:
    if not doc.contacts:
        return HttpResponse(NO_FILE, content_type=TEXT, status=404)
    response = HttpResponse(render_security_txt(doc, now=clock.now()), content_type=TEXT)
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _instance_mail() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Comment lines on the projects' mail route, and the key for it (unless configured)."""
    if not _takes_mail():
        return (), ()
    domain = settings.LOCKSTEP_MAIL_DOMAIN
    key = fingerprint(list_public_key()).upper()
    notes = (
        f"Mail about a project: security-<project>@{domain}, encrypted to the list key {key}",
        f"Each project's own file: {absolute('/projects/<project>/security.txt')}",
    )
    return notes, _list_key(reverse("web:list-key"))


def instance_contacts() -> tuple[str, ...]:
    """The instance's contacts (configured, else its report form over https); none: no file."""
    return tuple(settings.LOCKSTEP_SECURITY_CONTACTS) or _https(reverse("web:report-choose"))


def instance_mail_key() -> str:
    """The list key's fingerprint, if Lockstep takes mail (security-<project>@ is encrypted
    to it), else ""."""
    return fingerprint(list_public_key()).upper() if _takes_mail() else ""


@require_GET
def instance(_request: HttpRequest) -> HttpResponse:
    form = _https(reverse("web:report-choose"))
    notes, list_key = _instance_mail()
    configured = settings.LOCKSTEP_SECURITY_ENCRYPTION
    return _answer(
        SecurityTxt(
            contacts=instance_contacts(),
            expires=recommended_expires(clock.now()),
            encryption=(configured,) if configured else list_key,
            policy=(settings.LOCKSTEP_SECURITY_POLICY,)
            if settings.LOCKSTEP_SECURITY_POLICY
            else form,
            preferred_languages=tuple(settings.LOCKSTEP_SECURITY_LANGUAGES),
            canonical=_https("/.well-known/security.txt"),
            comment=f"security.txt for {settings.LOCKSTEP_INSTANCE_NAME}",
            notes=notes,
        )
    )


def project_contacts(project: Project) -> tuple[str, ...]:
    """The project's contacts, most preferred first: mail (Lockstep's address for it, else the
    upstream's own), then the report form over https. None: the project has no file."""
    mail = _report_address(project) or project.security_email
    form = _https(reverse("web:report", args=[project.slug]))
    return ((f"mailto:{mail}",) if mail else ()) + form


def _project_encryption(project: Project) -> tuple[str, ...]:
    """The key for the project's mail contact: the list key, else the upstream's own."""
    if _report_address(project):
        return _list_key(reverse("web:project-mail-key", args=[project.slug]))
    has_key = list_keys_of_org(project.upstream).exists()
    return _https(reverse("web:project-key", args=[project.slug])) if has_key else ()


@require_GET
@domain_errors
def project(request: HttpRequest, slug: str) -> HttpResponse:
    found = access_project_by_slug(from_request(request), slug)
    form = _https(reverse("web:report", args=[found.slug]))
    return _answer(
        SecurityTxt(
            contacts=project_contacts(found),
            expires=recommended_expires(clock.now()),
            encryption=_project_encryption(found),
            policy=form,
            preferred_languages=tuple(settings.LOCKSTEP_SECURITY_LANGUAGES),
            canonical=_https(reverse("web:project-security-txt", args=[found.slug])),
            comment=f"security.txt for {found.name}, by {found.upstream.name}",
        )
    )


@require_GET
@domain_errors
def project_mail_key(request: HttpRequest, slug: str) -> HttpResponse:
    """The key for mail to security-<project>@: the list key, with that address as a user ID."""
    found = access_project_by_slug(from_request(request), slug)
    address = _report_address(found)
    if not address:
        return HttpResponse("This instance takes no mail.\n", content_type=TEXT, status=404)
    return HttpResponse(armored_certificate_for(list_secret_key(), address), content_type=KEYS)


@require_GET
@domain_errors
def project_key(request: HttpRequest, slug: str) -> HttpResponse:
    """The upstream team's public OpenPGP key(s), for reporters who encrypt."""
    found = access_project_by_slug(from_request(request), slug)
    keys = list(list_keys_of_org(found.upstream))
    if not keys:
        return HttpResponse("No OpenPGP key on file.\n", content_type=TEXT, status=404)
    return HttpResponse("".join(key.armored for key in keys), content_type="application/pgp-keys")
