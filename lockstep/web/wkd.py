"""The Web Key Directory (draft-koch-openpgp-webkey-service): a mail client asks for the key of
security-<project>@<mail domain> and gets the list key, which decrypts mail to that address.

`gpg --locate-keys security-<project>@<domain>` fetches
https://<domain>/.well-known/openpgpkey/hu/<wkd hash of the local part>?l=<local part>
(the direct method), or the same under https://openpgpkey.<domain>/.well-known/openpgpkey/
<domain>/ if that host exists (the advanced method). Both are answered here.

A key is served for the addresses Lockstep reads with the list key and accepts mail for:
existing projects' report addresses, the lists' addresses (their names are public), and case
addresses whose tag is right (a member's own or the older shared one). Everything else is
404: bounce, postmaster and abuse addresses too, whose mail is no reporter's or member's.
Without the optional `l` parameter, the hash is looked up among projects and lists; a case
address cannot be guessed from its hash, so it needs `l`.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from lockstep.channels.queries import list_channels_for, list_routing_channels
from lockstep.core.actor import Actor
from lockstep.mailgw.addresses import AddressKind, channel_address, report_address
from lockstep.mailgw.outbound.protect import list_secret_key
from lockstep.mailgw.wkd import certificate_for, wkd_hash
from lockstep.mailin.destinations import resolve
from lockstep.projects.queries import list_projects_for

NOT_FOUND = "No key for this address.\n"
# Where the list key is how mail gets in; not bounce, postmaster or abuse addresses.
SERVED = frozenset({AddressKind.REPORT, AddressKind.CASE, AddressKind.CHANNEL})
TEXT = "text/plain; charset=utf-8"


def _for_everyone(response: HttpResponse) -> HttpResponse:
    """Web clients (for example webmail) fetch keys from other origins."""
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _is_our_domain(domain: str | None) -> bool:
    return domain is None or domain.lower() == str(settings.LOCKSTEP_MAIL_DOMAIN).lower()


def _published_addresses() -> Iterator[str]:
    """Addresses a hash may name without `l`: projects' report addresses and lists'."""
    anyone = Actor.anonymous()
    for slug in list_projects_for(anyone).values_list("slug", flat=True):
        yield report_address(slug)
    for channels in (list_channels_for(anyone), list_routing_channels()):
        for slug in channels.values_list("slug", flat=True):
            yield channel_address(slug)


def _served_address(hashed: str, local_part: str) -> str | None:
    """The address whose key is asked for, if the list key decrypts mail to it."""
    domain = str(settings.LOCKSTEP_MAIL_DOMAIN).lower()
    if local_part:
        if wkd_hash(local_part) != hashed:
            return None
        address = f"{local_part}@{domain}"
    else:
        named = (a for a in _published_addresses() if wkd_hash(a.rpartition("@")[0]) == hashed)
        address = next(named, "")
    found = resolve(address) if address else None
    if found is None or found.kind not in SERVED:
        return None
    return address.lower()


@require_safe
def policy(_request: HttpRequest, domain: str | None = None) -> HttpResponse:
    """The policy file: its presence says that this domain has a Web Key Directory."""
    if not _is_our_domain(domain):
        return HttpResponse(NOT_FOUND, content_type=TEXT, status=404)
    return _for_everyone(HttpResponse(b"", content_type=TEXT))


@require_safe
def key(request: HttpRequest, hashed: str, domain: str | None = None) -> HttpResponse:
    """The list key for one address: binary, with a user ID for that address."""
    address = _served_address(hashed, request.GET.get("l", "")) if _is_our_domain(domain) else None
    if address is None:
        return _for_everyone(HttpResponse(NOT_FOUND, content_type=TEXT, status=404))
    response = HttpResponse(
        certificate_for(list_secret_key(), address), content_type="application/octet-stream"
    )
    response["Cache-Control"] = "public, max-age=3600"
    return _for_everyone(response)
