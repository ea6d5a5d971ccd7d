from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "lockstep.demo"
    label = "demo"
