from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from core import lookups  # noqa: F401  (registers the `ilike` lookup)
