from django.urls import include, path

from lockstep.web import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", include("lockstep.web.urls")),
]
