"""A fake OpenID Provider: a real HTTP server on 127.0.0.1 that follows OpenID Connect Core 1.0
and Discovery 1.0 for the authorization code flow, as a relying party such as allauth uses it.

Only what Lockstep needs, with the rules a real provider enforces:

- `GET /.well-known/openid-configuration`: the discovery document (issuer = the server's URL);
- `GET /authorize`: checks `client_id`, the registered `redirect_uri` (else 400, and no
  redirect), `response_type=code`, the `openid` scope and PKCE (`S256` only); then "signs in"
  `person` (the test says who is at the provider) and redirects back with a one-time `code` and
  the `state`, or with `error=access_denied` when `person` is None (`authorizations` keeps
  each request's parameters);
- `POST /token`: client authentication (`client_secret_basic` or `client_secret_post`), the code
  (once, for the same client and `redirect_uri`), the PKCE `code_verifier`; answers an access
  token and an RS256-signed ID token (`iss`, `sub`, `aud`, `exp`, `iat`, `auth_time`, the
  authorization request's `nonce` if it had one, `email`, `email_verified`);
- `GET /jwks`: the public key (JWK, with its `kid`);
- `GET /userinfo` with `Authorization: Bearer <access token>`: the person's claims.

`person.email_verified` is sent as it is (True, False, "true", missing), so tests can try what
real providers send. `requests` records every request's method and path.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLIENT_ID = "lockstep-test"
CLIENT_SECRET = "fake-oidc-client-secret"
MISSING = object()  # an identity whose `email_verified` claim is left out


@dataclass
class Person:
    """Who signs in at the provider."""

    sub: str
    email: str | None
    email_verified: object = True


@dataclass
class Grant:
    person: Person
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None


@dataclass
class FakeOpenIDProvider:
    redirect_uris: list[str]
    person: Person | None = None
    issuer: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)
    authorizations: list[dict[str, str]] = field(default_factory=list)  # their query strings
    _codes: dict[str, Grant] = field(default_factory=dict)
    _tokens: dict[str, Person] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self._lock = threading.Lock()

    # The provider's rules, called by the request handler.

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "email", "email_verified"],
        }

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        """(status, headers, JSON body) for an authorization request."""
        self.authorizations.append(query)
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or redirect_uri not in self.redirect_uris:
            return 400, {}, {"error": "invalid_request", "error_description": "bad client"}
        back: dict[str, str] = {}
        if "state" in query:
            back["state"] = query["state"]
        error = self._authorization_error(query)
        if error or self.person is None:
            back["error"] = error or "access_denied"
            return 302, {"Location": f"{redirect_uri}?{urlencode(back)}"}, {}
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = Grant(
                self.person, redirect_uri, query.get("nonce"), query.get("code_challenge")
            )
        back["code"] = code
        return 302, {"Location": f"{redirect_uri}?{urlencode(back)}"}, {}

    @staticmethod
    def _authorization_error(query: dict[str, str]) -> str | None:
        if query.get("response_type") != "code":
            return "unsupported_response_type"
        if "openid" not in query.get("scope", "").split():
            return "invalid_scope"
        if "code_challenge" in query and query.get("code_challenge_method") != "S256":
            return "invalid_request"
        return None

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        if self._client(form, authorization) != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # a code is good once
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant"}
        if not _pkce_holds(grant.code_challenge, form.get("code_verifier")):
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[access_token] = grant.person
        return 200, {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token(grant),
        }

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": grant.person.sub,
            "aud": CLIENT_ID,
            "exp": now + 300,
            "iat": now,
            "auth_time": now,
            **_person_claims(grant.person),
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def userinfo(self, authorization: str) -> tuple[int, dict[str, Any]]:
        scheme, _, token = authorization.partition(" ")
        person = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if person is None:
            return 401, {"error": "invalid_token"}
        return 200, {"sub": person.sub, **_person_claims(person)}

    @staticmethod
    def _client(form: dict[str, str], authorization: str) -> tuple[str, str]:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "basic":
            user, _, password = base64.b64decode(credentials).decode().partition(":")
            return user, password
        return form.get("client_id", ""), form.get("client_secret", "")


def _person_claims(person: Person) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    if person.email is not None:
        claims["email"] = person.email
    if person.email_verified is not MISSING:
        claims["email_verified"] = person.email_verified
    return claims


def _pkce_holds(challenge: str | None, verifier: str | None) -> bool:
    if challenge is None:
        return verifier is None
    if verifier is None:
        return False
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") == challenge


def _handler(provider: FakeOpenIDProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            provider.requests.append(("GET", url.path))
            authorization = self.headers.get("Authorization", "")
            if url.path == "/authorize":
                query = {key: values[0] for key, values in parse_qs(url.query).items()}
                status, headers, body = provider.authorize(query)
                self._json(status, body, headers)
                return
            routes = {
                "/.well-known/openid-configuration": lambda: (200, provider.discovery()),
                "/jwks": lambda: (200, provider.jwks()),
                "/userinfo": lambda: provider.userinfo(authorization),
            }
            self._json(*routes.get(url.path, _not_found)())

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            provider.requests.append(("POST", url.path))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            form = {key: values[0] for key, values in parse_qs(body).items()}
            if url.path == "/token":
                self._json(*provider.token(form, self.headers.get("Authorization", "")))
            else:
                self._json(*_not_found())

        def _json(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            return

    return Handler


def _not_found() -> tuple[int, dict[str, Any]]:
    return 404, {"error": "not_found"}


@contextmanager
def serve_openid_provider(redirect_uris: list[str]) -> Iterator[FakeOpenIDProvider]:
    """A FakeOpenIDProvider listening on 127.0.0.1 (a free port) for the `with` block."""
    provider = FakeOpenIDProvider(redirect_uris=redirect_uris)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
