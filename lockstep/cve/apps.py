from django.apps import AppConfig


class CveConfig(AppConfig):
    name = "lockstep.cve"
    label = "cve"
    default_auto_field = "django.db.models.BigAutoField"
