from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "History imports"

    def ready(self):
        from imports import coexistence, services
        from imports.models import ImportJob
        from inbox import ingest

        ingest.COEXISTENCE_HOOK[:] = [coexistence.apply_payload]
        services.READERS[ImportJob.Kind.HISTORY_WEBHOOK] = coexistence.HistoryReader
