from allauth.mfa.totp import views as totp_views
from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views import defaults

from lockstep.api import errors as api_errors
from lockstep.api.v1.api import api
from lockstep.monitoring.views import metrics
from lockstep.web import errors as web_errors
from lockstep.web import securitytxt, views, wkd
from lockstep.web.signin import SigninView, sso_login

# The Web Key Directory's names: z-base-32 of a SHA-1 (lockstep.mailgw.wkd).
WKD_HASH = r"(?P<hashed>[ybndrfg8ejkmcpqxot1uwisza345h769]{32})"
WKD_DOMAIN = r"(?P<domain>[A-Za-z0-9.-]+)"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path(".well-known/security.txt", securitytxt.instance, name="security-txt"),
    # Web Key Directory: the direct method, then the advanced one (openpgpkey.<domain>).
    path(".well-known/openpgpkey/policy", wkd.policy, name="wkd-policy"),
    re_path(rf"^\.well-known/openpgpkey/hu/{WKD_HASH}$", wkd.key, name="wkd-key"),
    re_path(rf"^\.well-known/openpgpkey/{WKD_DOMAIN}/policy$", wkd.policy, name="wkd-policy-at"),
    re_path(rf"^\.well-known/openpgpkey/{WKD_DOMAIN}/hu/{WKD_HASH}$", wkd.key, name="wkd-key-at"),
    path("api/v1/", api.urls),
    # Signing in, passwords, second factors, sessions (django-allauth), at /login/, /mfa/, …
    path("login/", SigninView.as_view(), name="account_login"),
    # An account's address is its login name, changed by nobody but an operator: no page for it.
    path("email/", views.no_such_page),
    # The TOTP page shows its QR code as a data: image; that page alone may show one.
    path(
        "2fa/totp/activate/",
        csp_update({"img-src": ["data:"]})(totp_views.activate_totp),
        name="mfa_activate_totp",
    ),
    # Single sign-on (OpenID Connect, allauth's socialaccount): /oidc/<id>/login/ starts it,
    # /oidc/<id>/login/callback/ finishes it. An identity is connected to an account only at
    # sign-in (lockstep.signin.sso), so allauth's pages to list, connect or sign up are not here.
    path("oidc/<str:provider_id>/login/", sso_login, name="openid_connect_login"),
    path("3rdparty/", views.no_such_page),
    path("3rdparty/signup/", views.no_such_page),
    path("", include("allauth.urls")),
    path("", include("lockstep.web.urls")),
]


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's answer to an error nothing else caught (in a view, or in a middleware around
    it): JSON under /api/, a page elsewhere; 503 or 507 when the database or the disk is
    missing (lockstep.ops.resources), else 500."""
    if _is_api(request):
        return api_errors.server_error(request)
    return web_errors.server_error(request)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """What Django refuses before a view runs (a bad Host, a body too large): JSON under
    /api/ (413 for a body too large), Django's page elsewhere."""
    if _is_api(request):
        return api_errors.bad_request(request, exception)
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_errors.not_found(request, exception)
    return defaults.page_not_found(request, exception)


handler400 = bad_request
handler404 = page_not_found
handler500 = server_error
