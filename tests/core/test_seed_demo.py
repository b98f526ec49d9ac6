"""`make run`'s demo data leaves no dead ends: approved templates of each kind on the sandbox's WhatsApp
number (most demo conversations are past the 24-hour window) and canned replies, shared and own."""

import pytest
from django.core.management import call_command

from accounts.models import User
from inbox.message_templates import fill
from inbox.models import CannedResponse, Channel, Template
from sandbox.models import SandboxTemplate

pytestmark = pytest.mark.django_db


def test_demo_seeds_sendable_templates_and_canned_replies_once(settings):
    settings.SANDBOX_ENABLED = True
    call_command("seed_demo", contacts=12, verbosity=0)
    call_command("seed_demo", contacts=12, verbosity=0)  # idempotent

    channel = Channel.objects.get(kind="whatsapp", phone_number="+919876500001")
    templates = {t.name: t for t in fill.sendable_templates(channel)}
    assert set(templates) == {"order_update", "follow_up", "festive_offer"}
    kinds = {name: {c["type"] for c in t.components} for name, t in templates.items()}
    assert kinds["order_update"] == {"BODY"}
    assert "BUTTONS" in kinds["follow_up"]
    assert {"HEADER", "BUTTONS"} <= kinds["festive_offer"]
    assert all(t.synced_at for t in templates.values())
    # The sandbox lists them too, so "Sync from Tata" keeps them approved instead of marking them deleted.
    assert set(SandboxTemplate.objects.filter(channel=channel).values_list("name", flat=True)) == set(templates)
    for template in templates.values():
        values = {f.key: "https://shop.example.in/diwali.jpg" if f.kind == "media" else "x" for f in fill.template_fields(template)}
        fill.send_components(template, values)  # every blank can be filled
        assert Template.objects.filter(channel=channel, name=template.name).count() == 1

    shared = set(CannedResponse.objects.filter(owner=None).values_list("shortcut", flat=True))
    assert {"greet", "hours", "thanks"} <= shared
    assert CannedResponse.objects.filter(owner=User.objects.get(username="rahul")).exists()
    assert CannedResponse.objects.filter(shortcut="greet").count() == 1
