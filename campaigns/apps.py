from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from contacts.services import MERGE_HOOKS

        from campaigns.services import merge_recipients
        from inbox.opt_status import merge_opt_statuses

        MERGE_HOOKS.append(merge_recipients)
        MERGE_HOOKS.append(merge_opt_statuses)
