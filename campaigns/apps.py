from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from contacts.services import MERGE_HOOKS

        from campaigns.services import merge_recipients, message_settled
        from inbox.opt_status import merge_opt_statuses
        from inbox.outbound.delivery import SETTLED_HOOKS

        MERGE_HOOKS.append(merge_recipients)
        MERGE_HOOKS.append(merge_opt_statuses)
        if message_settled not in SETTLED_HOOKS:
            SETTLED_HOOKS.append(message_settled)
