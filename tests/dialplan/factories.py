import factory

from dialplan.models import Dialplan, Recording, Rule


class DialplanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dialplan

    name = factory.Sequence(lambda n: f"Dialplan {n}")
    smartflo_id = factory.Sequence(lambda n: f"sf{n:06d}")


class RecordingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recording

    name = factory.Sequence(lambda n: f"Recording {n}")
    smartflo_id = factory.Sequence(lambda n: str(150000 + n))


def make_rule(dialplan, name="rule", position=10, **fields) -> Rule:
    """A rule saved through the same validation as admin."""
    rule = Rule(dialplan=dialplan, name=name, position=position, **fields)
    rule.full_clean()
    rule.save()
    return rule
