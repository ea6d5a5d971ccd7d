from django.urls import include, path

from lockstep.api.v1.api import api
from lockstep.web import securitytxt, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path(".well-known/security.txt", securitytxt.instance, name="security-txt"),
    path("api/v1/", api.urls),
    path("", include("lockstep.web.urls")),
]
