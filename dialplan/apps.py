from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class DialplanConfig(AppConfig):
    name = "dialplan"
    verbose_name = "Dialplans"

    def ready(self):
        from django.conf import settings

        from contacts import timeline
        from dialplan import answers, selectors, signals

        try:
            answers.validate(settings.DIALPLAN_DEFAULT_ANSWER)
        except answers.InvalidAnswer as exc:
            raise ImproperlyConfigured(f"DIALPLAN_DEFAULT_ANSWER is not a valid Smartflo answer: {exc}") from exc
        signals.connect()
        timeline.register(selectors.timeline_source)
