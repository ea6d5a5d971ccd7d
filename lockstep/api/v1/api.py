"""The v1 API object, mounted at /api/v1/ by config/urls.py.

Adding endpoints for a domain:

1. Write `lockstep/api/v1/<domain>.py` with `router = Router(tags=["<domain>"])` and its
   endpoints (paths relative to the mount point; input and output schemas separate; a handler
   gets its caller from `lockstep.api.auth.actor_of(request)` and calls one `do_*`).
2. Import the module below and add one `api.add_router("/<prefix>", <domain>.router)` line
   in the "Routers" block.
3. Say what a token needs for each new operation in tests/unit/api/test_scopes.py (which fails
   until you do): `read` for GET, `write` for the other methods, or `publish` for an operation
   that makes embargoed information public or ends or shortens an embargo, which then
   declares `auth=PUBLISHING` (api/auth.py).

Every endpoint requires a token or a session unless it says `auth=None` (see api/auth.py
for both, and for CSRF). Errors are turned into JSON in one place, api/errors.py, so an
endpoint simply lets `core.errors` exceptions propagate. The OpenAPI document lists those
error answers for every operation by rule (api/openapi.py); an operation adds the ones no rule
gives it with `openapi_extra=answers(…)` (a rate limit's 429, for example).
"""

from __future__ import annotations

from lockstep.api.auth import API_AUTH
from lockstep.api.errors import install_error_handlers
from lockstep.api.openapi import LockstepNinjaAPI
from lockstep.api.parsing import NulRefusingParser
from lockstep.api.v1 import advisories, cases, embargo, orgs, reports, tokens, users

api = LockstepNinjaAPI(
    title="Lockstep API",
    version="1",
    description="Coordinated vulnerability disclosure. Authenticate with "
    "'Authorization: Bearer <token>'; create tokens at /account/tokens/.",
    urls_namespace="api-v1",
    docs_url=None,  # the interactive docs load from a CDN; the schema is at openapi.json
    openapi_url="/openapi.json",
    auth=API_AUTH,
    parser=NulRefusingParser(),  # text with a NUL character is a 400 (api/parsing.py)
)
install_error_handlers(api)

# Routers: one line per domain module in lockstep/api/v1/. Add new ones below this comment.
api.add_router("/", tokens.router)  # /tokens, /tokens/{id}, /me
api.add_router("/", reports.router)  # /reports…, /track/{token}…
api.add_router("/", cases.router)  # /cases…
api.add_router("/", advisories.router)  # /advisories…, /query
api.add_router("/", embargo.router)  # /cases/{id}/embargo…
api.add_router("/", orgs.router)  # /orgs/{slug}/members…, /orgs/{slug}/invitations…
api.add_router("/", users.router)  # /users/{id}/deactivate, /users/{id}/reactivate
