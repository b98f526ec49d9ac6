"""Demo dialplans: a two-level DTMF menu behind office hours, regions with agents, a masked pair.
Smartflo ids here are made up (the sandbox plays Smartflo); replace them with your portal's."""

import datetime

from django.utils import timezone

from accounts.models import Role, User
from dialplan.models import Dialplan, MaskedPair, Recording, Region, RegionPrefix, Rule, Schedule, ScheduleWindow
from telephony.models import AgentLine

DID = "+918069000000"


def _recording(name, smartflo_id, is_moh=False):
    return Recording.objects.update_or_create(name=name, defaults={"smartflo_id": smartflo_id, "is_moh": is_moh})[0]


def _rule(plan, name, **fields):
    if plan.rules.filter(name=name).exists():
        return
    rule = Rule(dialplan=plan, name=name, **fields)
    rule.full_clean()
    rule.save()


def seed(*, rng, stdout, **_):
    office, _ = Schedule.objects.get_or_create(name="Office hours")
    if not office.windows.exists():
        for day in range(6):
            ScheduleWindow.objects.create(schedule=office, weekday=day, opens=datetime.time(9, 30), closes=datetime.time(18, 30))
    agents = list(User.objects.filter(role=Role.AGENT).order_by("pk"))
    for index, agent in enumerate(agents):
        AgentLine.objects.get_or_create(user=agent, defaults={"agent_id": f"0500{index + 1:04d}"})
    for name, prefix in (("Maharashtra", "+9198200"), ("Karnataka", "+9198450"), ("Delhi", "+9198100")):
        region, _ = Region.objects.get_or_create(name=name)
        RegionPrefix.objects.get_or_create(prefix=prefix, defaults={"region": region})
        if agents and not region.agents.exists():
            region.agents.add(*rng.sample(agents, min(2, len(agents))))

    welcome = _recording("Welcome: press 1 for sales, 2 for support", "156848")
    invalid = _recording("Sorry, that is not an option", "156849")
    hold = _recording("Hold music", "156850", is_moh=True)
    closed = _recording("We are closed", "156851")

    choice, _ = Dialplan.objects.get_or_create(
        name="Main menu: choice", defaults={"smartflo_id": "demo-menu-choice", "numbers": DID, "description": "Second level of the main menu."}
    )
    _rule(choice, "1: sales (agents of the caller's region)", position=10, dtmf_values="1", action=Rule.Action.TRANSFER_REGION, moh=hold, ring_type="order_by")
    _rule(choice, "2: support IVR", position=20, dtmf_values="2", action=Rule.Action.TRANSFER, transfer_type="ivr", transfer_to="22590")
    _rule(choice, "Anything else", is_failover=True, action=Rule.Action.RECORDING, recording=invalid)

    main, _ = Dialplan.objects.get_or_create(
        name="Main menu", defaults={"smartflo_id": "demo-main-menu", "numbers": DID, "description": "The DID's front door."}
    )
    _rule(main, "Closed", position=5, schedule=office, schedule_state="closed", action=Rule.Action.RECORDING, recording=closed)
    _rule(main, "Registered callers to their agent", position=10, caller_has_owner="yes", action=Rule.Action.TRANSFER_OWNER, moh=hold)
    _rule(main, "Active delivery", position=20, pair_match="caller", action=Rule.Action.TRANSFER_PAIR)
    _rule(
        main, "Menu", is_failover=True, action=Rule.Action.RECORDING, recording=welcome,
        collect_dtmf=True, dtmf_max_length=1, dtmf_timeout=6000, dtmf_retry=2, next_dialplan=choice,
    )
    if not MaskedPair.objects.filter(reference="4711").exists():
        MaskedPair.objects.create(
            customer_number="+919820012345", agent_number="+919845012345", reference="4711", did=DID,
            expires_at=timezone.now() + datetime.timedelta(days=2),
        )
    stdout.write(f"Dialplans: {Dialplan.objects.count()} ({Rule.objects.count()} rules).")
