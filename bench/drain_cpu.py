"""Drain CPU per event: the cost of applying stored webhook events, without HTTP or Celery around it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sampark_drain_bench .venv/bin/python bench/drain_cpu.py [--events 2000] [--rounds 3]

Stores N signed-shape WhatsApp events (the fixtures' inbound shapes with fresh ids from 500 customers,
plus one sent/delivered/read status per outbound-looking message id) as `received`, then times
`drain_received()` in this process: CPU seconds (process_time, this process only: the database's own
CPU is not counted) and wall time per event. The ceiling printed beside it is the same number of bare
WebhookEvent inserts, measured in the same run. Lower is better; rounds report the best.
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

try:
    from inbox.ingest.drain import drain_received  # noqa: E402
except ImportError:  # before the split (#13)
    from inbox.ingest.drain import drain_received  # noqa: E402
from inbox.models import Channel, Message, WebhookEvent  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SHAPES = ["wa_in_text.json", "wa_in_text_referral_ctwa.json", "wa_in_location.json", "wa_in_interactive_button_reply.json",
          "wa_in_interactive_list_reply.json", "wa_in_button_template_quick_reply.json", "wa_in_contacts.json", "wa_in_order.json",
          "wa_in_reply_context.json", "wa_in_image.json"]


def bodies(count: int, rng: random.Random) -> list[bytes]:
    shapes = [json.loads((FIXTURES / name).read_text()) for name in SHAPES]
    out = []
    for i in range(count):
        payload = json.loads(json.dumps(shapes[i % len(shapes)]))
        number = f"9198{rng.randrange(500):08d}"
        payload["contacts"][0]["wa_id"] = number
        message = payload["messages"]
        message["id"] = f"wamid.bench{i}"
        message["from"] = number
        message["timestamp"] = str(1744111000 + i)
        if i % 3 == 2:  # a status for one of ours
            payload = {"statuses": [{"id": f"wamid.bench{i - 1}", "status": "read", "timestamp": str(1744111100 + i),
                                     "recipient_id": number}]}
        out.append(json.dumps(payload).encode())
    return out


def one_round(channel: Channel, count: int, rng: random.Random) -> tuple[float, float, float]:
    Message.objects.all().delete()
    WebhookEvent.objects.all().delete()
    payloads = bodies(count, rng)
    started = time.process_time()
    with transaction.atomic():
        for body in payloads:
            WebhookEvent.objects.create(source="tata_whatsapp", channel=channel, headers={}, body=body)
    bare_cpu = time.process_time() - started
    cpu, wall = time.process_time(), time.perf_counter()
    applied = drain_received()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert applied == count, applied
    return cpu / count * 1000, wall / count * 1000, bare_cpu / count * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    from config.celery import app

    app.loader.import_default_modules()  # as in a worker: every task registered before the first drain
    channel, _ = Channel.objects.get_or_create(
        phone_number="+919876500001", defaults={"kind": "whatsapp", "name": "Bench", "partner_token": "t", "access_token": "t",
                                                "api_base_url": "https://tata.test"})
    results = [one_round(channel, args.events, random.Random(20261202 + r)) for r in range(args.rounds)]
    cpu, wall, bare = min(r[0] for r in results), min(r[1] for r in results), min(r[2] for r in results)
    print(f"drain of {args.events} events, best of {args.rounds}: CPU {cpu:.3f} ms/event, wall {wall:.3f} ms/event; "
          f"ceiling (bare insert CPU) {bare:.3f} ms/event; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
