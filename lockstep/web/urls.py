from django.contrib.auth import views as auth_views
from django.urls import path

from lockstep.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/keys/", views.my_keys, name="keys"),
    path("orgs/<slug:slug>/", views.org_detail, name="org"),
    path("projects/<slug:slug>/", views.project_detail, name="project"),
    path("channels/<slug:slug>/", views.channel_detail, name="channel"),
]
