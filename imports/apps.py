from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "History imports"

    def ready(self):
        from imports import coexistence, readers
        from imports.models import ImportJob
        from inbox.ingest import apply, parse

        if coexistence.split_payload not in parse.PAYLOAD_SPLITTERS:
            parse.PAYLOAD_SPLITTERS.append(coexistence.split_payload)
        apply.APPLIERS[coexistence.CoexistenceParts] = coexistence.apply_parts
        readers.READERS[ImportJob.Kind.HISTORY_WEBHOOK] = coexistence.HistoryReader
