from django.apps import AppConfig


class DialplanConfig(AppConfig):
    name = "dialplan"
