from django.urls import include, path, re_path

from lockstep.api.v1.api import api
from lockstep.web import securitytxt, views, wkd

# The Web Key Directory's names: z-base-32 of a SHA-1 (lockstep.mailgw.wkd).
WKD_HASH = r"(?P<hashed>[ybndrfg8ejkmcpqxot1uwisza345h769]{32})"
WKD_DOMAIN = r"(?P<domain>[A-Za-z0-9.-]+)"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path(".well-known/security.txt", securitytxt.instance, name="security-txt"),
    # Web Key Directory: the direct method, then the advanced one (openpgpkey.<domain>).
    path(".well-known/openpgpkey/policy", wkd.policy, name="wkd-policy"),
    re_path(rf"^\.well-known/openpgpkey/hu/{WKD_HASH}$", wkd.key, name="wkd-key"),
    re_path(rf"^\.well-known/openpgpkey/{WKD_DOMAIN}/policy$", wkd.policy, name="wkd-policy-at"),
    re_path(rf"^\.well-known/openpgpkey/{WKD_DOMAIN}/hu/{WKD_HASH}$", wkd.key, name="wkd-key-at"),
    path("api/v1/", api.urls),
    path("", include("lockstep.web.urls")),
]
