from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"

    def ready(self):
        from contacts import selectors, services, timeline
        from inbox import contact_hooks

        if contact_hooks.fold_conversations not in services.MERGE_HOOKS:
            services.MERGE_HOOKS.append(contact_hooks.fold_conversations)
        if contact_hooks.contacts_of_visible_conversations not in selectors.VISIBILITY_GRANTS:
            selectors.VISIBILITY_GRANTS.append(contact_hooks.contacts_of_visible_conversations)
        timeline.register(contact_hooks.messages_source)
