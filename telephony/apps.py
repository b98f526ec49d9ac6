from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = "Telephony"

    def ready(self):
        from contacts import selectors, timeline
        from inbox.ingest import drain as ingest
        from telephony import contact_hooks
        from telephony.agent_directory import AgentDirectory
        from telephony import ingest as call_ingest

        timeline.register(contact_hooks.calls_source)
        if contact_hooks.contacts_of_own_calls not in selectors.VISIBILITY_GRANTS:
            selectors.VISIBILITY_GRANTS.append(contact_hooks.contacts_of_own_calls)
        from django.conf import settings
        from django.db.models.signals import post_delete, post_save

        from telephony.models import AgentLine

        for model in (AgentLine, settings.AUTH_USER_MODEL):
            post_save.connect(AgentDirectory.forget, sender=model, dispatch_uid=f"telephony-agents-save-{model}")
            post_delete.connect(AgentDirectory.forget, sender=model, dispatch_uid=f"telephony-agents-delete-{model}")
        # Status URL deliveries are stored as inbox WebhookEvents and drained by the inbox's drain.
        ingest.SOURCE_APPLIERS[call_ingest.SOURCE] = call_ingest.apply_event
        ingest.SOURCE_READ_AHEAD[call_ingest.SOURCE] = call_ingest.read_ahead
