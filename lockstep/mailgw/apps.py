from django.apps import AppConfig


class MailgwConfig(AppConfig):
    name = "lockstep.mailgw"
    label = "mailgw"
    default_auto_field = "django.db.models.BigAutoField"
