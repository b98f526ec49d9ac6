"""Dialplan answers under load, next to a bare Django JSON view in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sampark_dialplan .venv/bin/python bench/dialplan.py

Prepares (once) 10,000 contacts and a dialplan of 50 rules (DIDs, DTMF menus, labels, owners, regions,
business hours, masked pairs), starts the production shape (deploy/serve.py: nginx on 127.0.0.1:8300
in front of gunicorn's sync workers, one per core) in production mode (DEBUG off, BENCH_ENDPOINTS on),
and for each target runs the same closed-loop load through the front door: BENCH_CLIENTS keep-alive
connections posting Smartflo-shaped JSON for BENCH_SECONDS. Prints req/s and p50/p99 for the bare view
(/dialplan/bench-bare/, the ceiling: a Django view answering JSON on the same servers) and the dialplan
URL, and their ratio. Goal: ratio ≥ 0.8, one-client p99 < 10 ms.
Request logs are written as in production (bulk, off the answer path) and counted at the end.
"""

import http.client
import json
import os
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PRODUCTION_MODE, CpuMeter, ensure_database, machine_reference, production_shape, server_line  # noqa: E402

PORT = int(os.environ.get("BENCH_PORT", 8300))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 8))
SECONDS = float(os.environ.get("BENCH_SECONDS", 15))
N_CONTACTS = 10_000
N_RULES = 50
DID = "+918069000000"
SERVER_ENV = {
    **PRODUCTION_MODE,
    "ALLOWED_HOSTS": "127.0.0.1",
    "BENCH_ENDPOINTS": "true",
    "LOG_LEVEL": "WARNING",
    "DATABASE_POOL": "true",  # production shape for daphne on PostgreSQL (ignored on SQLite)
}
os.environ.update({k: v for k, v in SERVER_ENV.items() if k != "LOG_LEVEL"})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
ensure_database(os.environ.get("DATABASE_URL", ""))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from contacts.models import Contact, ContactPhone, Label  # noqa: E402
from dialplan.models import (  # noqa: E402
    Dialplan,
    DialplanRequest,
    MaskedPair,
    Recording,
    Region,
    RegionPrefix,
    Rule,
    Schedule,
    ScheduleWindow,
)
from telephony.models import AgentLine  # noqa: E402


def prepare(rng: random.Random) -> tuple[Dialplan, list[str]]:
    call_command("migrate", verbosity=0)
    agents = []
    for i in range(20):
        user, _ = User.objects.get_or_create(username=f"bench-agent-{i}", defaults={"role": Role.AGENT, "phone": f"+9199000{i:05d}"})
        AgentLine.objects.get_or_create(user=user, defaults={"agent_id": f"0500{i:04d}"} if i % 2 else {})
        agents.append(user)
    labels = [Label.objects.get_or_create(name=f"bench-{n}")[0] for n in ("vip", "lead", "overdue", "wholesale")]
    existing = Contact.objects.filter(name__startswith="Bench caller").count()
    if existing < N_CONTACTS:
        print(f"creating {N_CONTACTS - existing} contacts…", flush=True)
        contacts = Contact.objects.bulk_create(
            [
                Contact(name=f"Bench caller {i}", owner=rng.choice(agents) if rng.random() < 0.5 else None)
                for i in range(existing, N_CONTACTS)
            ]
        )
        ContactPhone.objects.bulk_create(
            [ContactPhone(contact=c, number=f"+9198{c.pk:08d}", is_primary=True) for c in contacts], ignore_conflicts=True
        )
        through = Contact.labels.through
        through.objects.bulk_create(
            [through(contact_id=c.pk, label_id=rng.choice(labels).pk) for c in contacts if rng.random() < 0.3],
            ignore_conflicts=True,
        )
    callers = list(ContactPhone.objects.filter(contact__name__startswith="Bench caller").values_list("number", flat=True))

    plan = Dialplan.objects.filter(name="Bench front door").first()
    if plan is None:
        print("creating 50 rules…", flush=True)
        office, _ = Schedule.objects.get_or_create(name="Bench hours")
        for day in range(7):
            ScheduleWindow.objects.get_or_create(schedule=office, weekday=day, opens="00:00", closes="23:59")
        recording, _ = Recording.objects.get_or_create(name="Bench prompt", defaults={"smartflo_id": "156848"})
        moh, _ = Recording.objects.get_or_create(name="Bench hold", defaults={"smartflo_id": "156850", "is_moh": True})
        for n, name in enumerate(("Maharashtra", "Karnataka", "Delhi", "Tamil Nadu")):
            region, _ = Region.objects.get_or_create(name=f"Bench {name}")
            region.agents.add(*agents[n * 5 : n * 5 + 5])
            RegionPrefix.objects.get_or_create(prefix=f"+91980000{n}", defaults={"region": region})
        nxt = Dialplan.objects.create(name="Bench second level", smartflo_id="benchnext1")
        plan = Dialplan.objects.create(name="Bench front door", smartflo_id="benchfront1", numbers=DID)

        def add(position, name, **fields):
            rule = Rule(dialplan=plan, position=position, name=name, **fields)
            rule.full_clean()
            rule.save()
            return rule

        position = 0
        for i in range(20):  # other DIDs' menus: never match this DID, still evaluated
            position += 1
            add(position, f"Other DID {i}", called_numbers=f"+91806901{i:04d}", dtmf_values=str(i % 10),
                action="transfer", transfer_type="ivr", transfer_to=str(1000 + i))
        for i, label in enumerate(labels):
            position += 1
            rule = add(position, f"Label {label.name} after hours", schedule=office, schedule_state="closed",
                       action="transfer", transfer_type="department", transfer_to=str(700 + i))
            rule.caller_labels.add(label)
        for i in range(10):
            position += 1
            add(position, f"Menu digit {i}*", dtmf_values=f"{i}9{i}", called_numbers=DID,
                action="transfer", transfer_type="agent", transfer_to=f"0500{i:04d}", ring_type="order_by", moh=moh)
        for i in range(4):
            position += 1
            add(position, f"Region {i}", caller_regions=f"Bench {('Maharashtra', 'Karnataka', 'Delhi', 'Tamil Nadu')[i]}",
                dtmf_values="5", action="transfer_region", ring_type="order_by")
        position += 1
        add(position, "Delivery by order number", pair_match="reference", dtmf_values="4711", action="transfer_pair")
        position += 1
        add(position, "Active delivery", pair_match="caller", dtmf_values="8", action="transfer_pair")
        position += 1
        vip = add(position, "VIP to owner", caller_has_owner="yes", dtmf_values="1", action="transfer_owner", skip_active=True)
        vip.caller_labels.add(labels[0])
        position += 1
        add(position, "Registered callers to their agent", caller_has_owner="yes", action="transfer_owner")
        while position < N_RULES - 1:
            position += 1
            add(position, f"Unknown callers {position}", caller_known="no", dtmf_values=str(position),
                action="recording", recording=recording, collect_dtmf=True, next_dialplan=nxt)
        add(0, "Menu", is_failover=True, action="recording", recording=recording, collect_dtmf=True, dtmf_max_length=1, next_dialplan=nxt)
        MaskedPair.objects.create(customer_number=callers[0], agent_number="+919900000001", reference="4711",
                                  expires_at=timezone.now() + timezone.timedelta(days=365))
    assert plan.rules.count() == N_RULES, plan.rules.count()
    return plan, callers


def bodies(rng: random.Random, callers: list[str], n: int) -> list[bytes]:
    out = []
    for i in range(n):
        caller = rng.choice(callers) if rng.random() < 0.7 else f"+9170{rng.randrange(10**7, 10**8)}"
        out.append(json.dumps({
            "uuid": f"bench-{i}", "call_id": f"1700000000.{i}", "call_to_number": DID, "caller_id_number": caller,
            "start_stamp": "2025-01-15 10:30:00", "last_dtmf": rng.choice(["", "", "1", "2", "5", "8", "4711", "393"]),
        }).encode())
    return out


def load(path: str, payloads: list[bytes], seconds: float, clients: int = CLIENTS) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(offset: int):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        mine, i = [], offset
        while time.perf_counter() < stop_at:
            body = payloads[i % len(payloads)]
            i += clients
            started = time.perf_counter()
            try:
                conn.request("POST", path, body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            mine.append(time.perf_counter() - started)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - started), latencies, errors[0]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


def main():
    rng = random.Random(11)
    plan, callers = prepare(rng)
    payloads = bodies(rng, callers, 5000)
    logged_before = DialplanRequest.objects.filter(dialplan=plan).count()
    answered = 0  # dialplan requests sent, each of which must leave a log row
    shape = production_shape({**os.environ, **SERVER_ENV}, PORT, name="dialplan")
    shape.start()
    try:
        targets = [("bare Django JSON view", "/dialplan/bench-bare/"), ("dialplan answer", plan.path)]
        for _, path in targets:
            _, latencies, _ = load(path, payloads, 2)  # warm up: connections, compiled rules
            answered += len(latencies) if path == plan.path else 0
        results = {}
        print(machine_reference())
        print(server_line(shape))
        print(f"throughput, {CLIENTS} concurrent keep-alive clients:")
        for name, path in targets:
            cpu = CpuMeter(shape)
            cpu.start()
            rate, latencies, errors = load(path, payloads, SECONDS)
            answered += len(latencies) if path == plan.path else 0
            results[name] = rate
            print(f"  {name:24s} {rate:8.0f} req/s   p50 {percentile(latencies, 0.5):6.2f} ms   "
                  f"p99 {percentile(latencies, 0.99):6.2f} ms   errors {errors}", flush=True)
            print(f"  {'':24s} CPU per request {cpu.per_item(len(latencies))}", flush=True)
        print("latency, one client (what one Smartflo request waits):")
        for name, path in targets:
            rate, latencies, errors = load(path, payloads, SECONDS / 2, clients=1)
            answered += len(latencies) if path == plan.path else 0
            print(f"  {name:24s} {rate:8.0f} req/s   p50 {percentile(latencies, 0.5):6.2f} ms   "
                  f"p99 {percentile(latencies, 0.99):6.2f} ms   errors {errors}", flush=True)
        print(f"ratio dialplan / bare: {results['dialplan answer'] / results['bare Django JSON view']:.2f} "
              f"({N_CONTACTS} contacts, {N_RULES} rules, {CLIENTS} clients, {SECONDS:.0f} s each, "
              f"{django.db.connection.vendor})")
    finally:
        shape.stop()
        log = shape.run_dir / "logs" / "gunicorn.log"
        errors = [line for line in log.read_text(errors="replace").splitlines() if "ERROR" in line]
        if errors:
            print(f"server errors (full log in {log}):", *errors[:5], sep="\n  ")
    logged = DialplanRequest.objects.filter(dialplan=plan).count() - logged_before
    print(f"request log rows written: {logged} for {answered} dialplan requests sent")


if __name__ == "__main__":
    main()
