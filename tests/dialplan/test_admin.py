"""Admin: what to paste into Smartflo, one-click templates, logs on the page, the simulator."""

import json

import pytest
from django.urls import reverse

from contacts.timeline import timeline_for
from dialplan import services
from dialplan.models import Dialplan, DialplanRequest, Rule
from tests.dialplan.factories import DialplanFactory, RecordingFactory, make_rule
from tests.factories import ContactFactory, ContactPhoneFactory

pytestmark = pytest.mark.django_db


def test_change_page_shows_url_method_body_template_and_example(logged_in, admin_user, settings):
    settings.PUBLIC_BASE_URL = "https://crm.example.in"
    plan = DialplanFactory(method="GET", header_key="X-Key", header_value="topsecret")
    page = logged_in(admin_user).get(reverse("admin:dialplan_dialplan_change", args=[plan.pk])).content.decode()
    assert f"https://crm.example.in/dialplan/{plan.token}/" in page
    assert "<code>GET</code>" in page
    assert "&quot;caller_id_number&quot;: &quot;$caller_id_number&quot;" in page
    assert "Insert example" in page and "+91-9812345678" in page
    assert "X-Key" in page and "topsecret" not in page
    assert reverse("admin:dialplan_dialplan_simulate", args=[plan.pk]) in page


def test_change_page_lists_recent_requests_and_setup_problems(client, logged_in, admin_user):
    plan = DialplanFactory(is_active=False)
    make_rule(plan, "greet", action="recording", recording=services._recording("Hello (not uploaded)"))
    client.post(plan.path, data=json.dumps({"uuid": "1", "caller_id_number": "9812345678"}), content_type="application/json")
    page = logged_in(admin_user).get(reverse("admin:dialplan_dialplan_change", args=[plan.pk])).content.decode()
    assert "greet: Recording “Hello (not uploaded)” has no Smartflo id yet." in page
    assert "+919812345678" in page and "Dialplan off: default" in page


def test_agents_cannot_reach_dialplan_admin(logged_in, agent):
    plan = DialplanFactory()
    response = logged_in(agent).get(reverse("admin:dialplan_dialplan_simulate", args=[plan.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("kind", sorted(services.TEMPLATES))
def test_each_solution_is_one_click(logged_in, admin_user, kind):
    client = logged_in(admin_user)
    assert f'data-template="{kind}"' in client.get(reverse("admin:dialplan_dialplan_changelist")).content.decode()
    response = client.post(reverse("admin:dialplan_dialplan_template", args=[kind]))
    plan = Dialplan.objects.get(name=services.TEMPLATES[kind])
    assert response.status_code == 302 and response["Location"] == reverse("admin:dialplan_dialplan_change", args=[plan.pk])
    assert not plan.is_active and plan.rules.exists()
    # Created twice: a second copy, not a clash.
    client.post(reverse("admin:dialplan_dialplan_template", args=[kind]))
    assert Dialplan.objects.filter(name=f"{services.TEMPLATES[kind]} (2)").exists()


def test_delivery_template_works_once_ids_are_filled_in(client):
    plan = services.create_from_template("delivery")
    connect = Dialplan.objects.get(name="Delivery-agent connect: by order number")
    for recording in {r.recording for r in Rule.objects.filter(recording__isnull=False)}:
        recording.smartflo_id = str(900 + recording.pk)
        recording.save()
    connect.smartflo_id = "connect01"
    connect.is_active = True
    connect.full_clean()
    connect.save()
    plan.is_active = True
    plan.full_clean()
    plan.save()
    first = json.loads(client.get(plan.path, {"uuid": "1", "caller_id_number": "9812345678", "call_to_number": "8069000000"}).content)
    assert first[1] == [{"api_dialplan": {"data": "connect01"}}]
    assert first[0][0]["recording"]["dtmf"] == {"timeout": 6000, "maxLength": 10, "retry": 2}
    services.create_masked_pair(
        customer_number="9812345678", agent_number="9900000001", reference="4711",
        expires_at=services.timezone.now() + services.datetime.timedelta(hours=1),
    )
    second = json.loads(client.get(connect.path, {"uuid": "1", "caller_id_number": "7000000009", "last_dtmf": "4711"}).content)
    assert second == [{"transfer": {"type": "number", "data": ["9900000001"]}}]


def simulate(client, plan, **data):
    return client.post(reverse("admin:dialplan_dialplan_simulate", args=[plan.pk]), data)


def test_simulator_follows_a_menu_and_logs_nothing(logged_in, admin_user):
    menu2 = DialplanFactory(name="Sales menu")
    make_rule(menu2, "press 1", dtmf_values="1", action="transfer", transfer_type="agent", transfer_to="05000001")
    menu1 = DialplanFactory(name="Main menu", is_active=False)  # a draft simulates as if on
    make_rule(
        menu1, "welcome", action="recording", recording=RecordingFactory(smartflo_id="156848"),
        collect_dtmf=True, dtmf_max_length=1, next_dialplan=menu2,
    )
    client = logged_in(admin_user)
    page = simulate(client, menu1, caller="9812345678", called="", restart="1", current=menu1.pk).content.decode()
    assert "Play system recording 156848, collect up to 1 digits" in page and "Continue to Sales menu" in page
    history = page.split('name="history" value="')[1].split('"')[0].replace("&quot;", '"').replace("&#x27;", "'")
    page = simulate(client, menu1, caller="9812345678", called="", current=menu2.pk, dtmf="1", history=history.replace("&amp;", "&")).content.decode()
    assert "caller typed 1" in page and "Transfer to agent 05000001" in page and "End of the flow" in page
    assert DialplanRequest.objects.count() == 0


def test_timeline_shows_the_callers_requests(client, logged_in, admin_user):
    contact = ContactFactory(name="Meera Iyer")
    ContactPhoneFactory(contact=contact, number="+919812345678")
    plan = DialplanFactory(name="Front door")
    make_rule(plan, "all", action="transfer", transfer_type="ivr", transfer_to="3")
    client.get(plan.path, {"uuid": "1", "caller_id_number": "09812345678"})
    entries = [e for e in timeline_for(contact, admin_user) if e.kind == "dialplan_request"]
    assert len(entries) == 1 and entries[0].obj.rule_name == "all"
    page = logged_in(admin_user).get(contact.get_absolute_url()).content.decode()
    assert "Front door" in page and "Rule matched" in page


def test_prune_task_deletes_old_logs_only(settings):
    from dialplan.tasks import prune_requests

    settings.DIALPLAN_LOG_RETENTION_DAYS = 30
    now = services.timezone.now()
    for days in (40, 31, 5):
        DialplanRequest.objects.create(received_at=now - services.datetime.timedelta(days=days), method="GET", outcome="matched")
    assert prune_requests.apply().get() == 2
    assert DialplanRequest.objects.count() == 1
    assert "prune-dialplan-requests" in settings.CELERY_BEAT_SCHEDULE


def test_demo_seed_is_idempotent():
    import random
    from io import StringIO

    from dialplan import demo

    for _ in range(2):
        demo.seed(rng=random.Random(1), stdout=StringIO())
    assert Dialplan.objects.filter(name="Main menu").count() == 1
