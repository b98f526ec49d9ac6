"""A campaign through real Celery workers against the sandbox, with its status callbacks on and off.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sampark_campaign_bench REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/campaign.py [--messages 2000] [--workers 4] [--rate 1000] [--probe-rate 10] [--modes off,on]

For each mode it starts the production shape on 127.0.0.1:8500 (deploy/serve.py: nginx → gunicorn,
which also serves the sandbox's fake Tata API, and a Celery worker of --workers processes at nice 10),
then starts a campaign as a supervisor would (campaigns.services.start: N contacts with a label, one
approved template): the campaign's task queues one template message per recipient, and the workers
deliver them to the sandbox. With callbacks on (SANDBOX_STATUS_CALLBACKS) the sandbox posts sent,
delivered and read for every message through the channel's real signed webhook, and the same workers
drain them. With them off the run measures sending alone: the ceiling, in the same run.

Meanwhile a probe posts signed status callbacks for a second number at a steady --probe-rate (open
loop) and times the webhook's answer: the ack latency agents' and customers' webhooks see during the
campaign.

Prints per mode: sustained send rate (campaign started → last send accepted by the sandbox), how
many callbacks were applied and their lag (webhook stored → event applied, which is the status
change: both in one transaction), duplicate sends (requests the sandbox received more than once for
one message's callback data; must be 0), probe ack p50/p99, worker CPU per message and per applied
event, and the load average. Goal (issue 13): ≥ 80 msg/s with callbacks on, callback lag p99 ≤ 2 s,
0 duplicates, ack p99 < 50 ms. --rate is the per-number token bucket: Meta's default of 80/s would cap
the run at 80 by design, so the default lifts it to measure what the house can do.
"""

import argparse
import collections
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    PRODUCTION_MODE, WORKER_NICE, cpu_seconds, machine_reference, production_shape, require_postgres, send_all, server_line,
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

HOST, PORT = "127.0.0.1", int(os.environ.get("BENCH_PORT", 8500))
PARTNER_TOKEN = "bench-campaign-partner"
NUMBERS = {"off": "+919876506660", "on": "+919876506661"}
PROBE_NUMBER = "+919876506669"
PROBE_MESSAGES = 500
NAME_PREFIX = "Campaign bench"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4, help="Celery worker processes")
    parser.add_argument("--rate", type=float, default=1000, help="token bucket per number, messages/s (Meta's default: 80)")
    parser.add_argument("--probe-rate", type=float, default=10, help="signed webhooks/s posted meanwhile to time the ack")
    parser.add_argument("--modes", default="off,on", help="callbacks off (the ceiling) and on, in this order")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--worker-nice", type=int, default=WORKER_NICE,
                        help="the workers' nice (production: 10, below the web servers; on a machine shared with other "
                             "busy processes 10 starves them, so the figures say which was used)")
    args = parser.parse_args()
    require_postgres()
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL: the Celery broker.")

    env = {**os.environ, **PRODUCTION_MODE,
           "ALLOWED_HOSTS": HOST, "LOG_LEVEL": "WARNING", "CONN_MAX_AGE": "300", "SANDBOX_ENABLED": "true",
           "CHANNELS_PREFIX": "bench-campaign", "OUTBOUND_RATE_PER_SECOND": str(args.rate), "CELERY_CONCURRENCY": str(args.workers)}
    os.environ.update({k: env[k] for k in ("DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS", "SANDBOX_ENABLED",
                                            "OUTBOUND_RATE_PER_SECOND", "CHANNELS_PREFIX")})
    os.environ["WORKER_NICE"] = str(args.worker_nice)  # read by deploy/serve.py when production_shape imports it
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(machine_reference())
    results = {}
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        results[mode] = run_mode(args, env, mode)
    report(args, results)


def run_mode(args, env: dict, mode: str) -> dict:
    _flush_broker()
    supervisor, channel, template, label = prepare(args.messages, mode)
    probe_path, probe_bodies = prepare_probe()
    shape = production_shape({**env, "SANDBOX_STATUS_CALLBACKS": "true" if mode == "on" else "false"}, PORT, celery=True,
                             name=f"campaign-{mode}")
    shape.start()
    try:
        time.sleep(3)  # let the worker processes connect
        worker = next(process.pid for name, process in shape.processes if name == "worker")
        web = [process.pid for name, process in shape.processes if name == "gunicorn"]
        load_before = os.getloadavg()
        cpu_before = cpu_seconds([worker]), cpu_seconds(web)
        stop = threading.Event()
        probe = {}
        prober = threading.Thread(target=lambda: probe.update(_probe(probe_path, probe_bodies, args.probe_rate, stop)))
        prober.start()
        campaign = start_campaign(supervisor, channel, template, label)
        settled_at = wait_until_settled(campaign, callbacks=mode == "on", timeout=args.timeout)
        stop.set()
        prober.join()
        time.sleep(1)  # the probe's last events
        cpu_after = cpu_seconds([worker]), cpu_seconds(web)
        figures = measure(channel, campaign, settled_at)
        figures.update(
            mode=mode, probe=probe, load=(load_before, os.getloadavg()),
            worker_cpu=cpu_after[0] - cpu_before[0], web_cpu=cpu_after[1] - cpu_before[1],
            server=server_line(shape),
        )
        print_mode(figures)
        return figures
    finally:
        shape.stop()


def _flush_broker():
    """Tasks an interrupted run left in this run's Redis database would run during this one."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    for pattern in ("celery*", "_kombu*", "unacked*", "bench-campaign:*"):
        for key in client.scan_iter(pattern):
            client.delete(key)
    from django.core.cache import cache

    cache.delete("inbox:drain-queued")


def prepare(count: int, mode: str):
    from accounts.models import Role, User
    from campaigns.models import Campaign
    from contacts.models import Contact, ContactPhone, Label
    from inbox.models import Channel, Template, WebhookEvent

    number = NUMBERS[mode]
    Campaign.objects.filter(channel__phone_number=number).delete()
    WebhookEvent.objects.filter(channel__phone_number=number).delete()
    Channel.objects.filter(phone_number=number).delete()
    Contact.objects.filter(name__startswith=f"{NAME_PREFIX} {mode} ").delete()
    Label.objects.filter(name=f"campaign-bench-{mode}").delete()
    channel = Channel.objects.create(
        kind="whatsapp", phone_number=number, name=f"{NAME_PREFIX} {mode}", access_token=f"bench-campaign-token-{mode}",
        partner_token=PARTNER_TOKEN, api_base_url=f"http://{HOST}:{PORT}/sandbox/api/tata",
    )
    template = Template.objects.create(
        channel=channel, name="diwali_offer", language="en", category="MARKETING", status="APPROVED", provider_template_id=f"tpl-{mode}",
        components=[{"type": "BODY", "text": "Hi {{1}}, your Diwali offer {{2}} is ready.", "example": {"body_text": [["Meera", "D-10"]]}}],
    )
    label = Label.objects.create(name=f"campaign-bench-{mode}")
    prefix = "+9195" if mode == "on" else "+9194"
    contacts = Contact.objects.bulk_create([Contact(name=f"{NAME_PREFIX} {mode} {i}") for i in range(count)])
    ContactPhone.objects.bulk_create([ContactPhone(contact=c, number=f"{prefix}{i:08d}", is_primary=True) for i, c in enumerate(contacts)])
    Contact.labels.through.objects.bulk_create([Contact.labels.through(contact_id=c.pk, label_id=label.pk) for c in contacts])
    supervisor, _ = User.objects.get_or_create(username="campaign-bench", defaults={"role": Role.SUPERVISOR})
    return supervisor, channel, template, label


def prepare_probe() -> tuple[str, list[bytes]]:
    """A second number whose PROBE_MESSAGES customers each have a message already read: the probe's `read`
    callbacks change nothing, but each is stored, signature-checked and drained like any other. (One
    customer for every probe post would make the drains queue on that customer's rows.)"""
    from django.utils import timezone

    from contacts.models import Contact, ContactPhone
    from inbox.models import Channel, Conversation, Message, WebhookEvent

    WebhookEvent.objects.filter(channel__phone_number=PROBE_NUMBER).delete()
    Channel.objects.filter(phone_number=PROBE_NUMBER).delete()
    Contact.objects.filter(name__startswith=f"{NAME_PREFIX} probe customer").delete()
    channel = Channel.objects.create(kind="whatsapp", phone_number=PROBE_NUMBER, name=f"{NAME_PREFIX} probe", access_token="bench-probe",
                                     partner_token=PARTNER_TOKEN, api_base_url="http://127.0.0.1:9")
    contacts = Contact.objects.bulk_create([Contact(name=f"{NAME_PREFIX} probe customer {i}") for i in range(PROBE_MESSAGES)])
    ContactPhone.objects.bulk_create([ContactPhone(contact=c, number=f"+9192{i:08d}", is_primary=True) for i, c in enumerate(contacts)])
    conversations = Conversation.objects.bulk_create([Conversation(channel=channel, contact=c) for c in contacts])
    now = timezone.now()
    Message.objects.bulk_create([
        Message(channel=channel, conversation=conversation, direction="out", type="text", body=f"probe {i}", status="read",
                provider_message_id=f"wamid.CAMPAIGNPROBE-{i}", timestamp=now, status_updated_at=now)
        for i, conversation in enumerate(conversations)
    ])
    bodies = []
    for i in range(PROBE_MESSAGES * 20):
        status = {"id": f"wamid.CAMPAIGNPROBE-{i % PROBE_MESSAGES}", "status": "read", "timestamp": str(int(time.time())),
                  "recipient_id": f"9192{i % PROBE_MESSAGES:08d}"}
        bodies.append(json.dumps({"statuses": [status], "businessPhoneNumber": PROBE_NUMBER, "id": str(uuid.uuid4())}).encode())
    return f"/webhooks/tata/{channel.webhook_token}/", bodies


def _probe(path: str, bodies: list[bytes], rate: float, stop: threading.Event) -> dict:
    from inbox.providers.tata_whatsapp import SIGNATURE_HEADER, sign

    requests_ = [("POST", path, body, {SIGNATURE_HEADER: sign(body, PARTNER_TOKEN)}) for body in bodies]
    return send_all(PORT, requests_, concurrency=8, rate=rate, host=HOST, stop=stop)


def start_campaign(supervisor, channel, template, label):
    from campaigns import services

    return services.start(by=supervisor, name=f"{NAME_PREFIX} {channel.phone_number}", channel=channel, template=template,
                          values={"body_1": "{first_name}", "body_2": "D-10"}, filters={"label": str(label.pk)})


def wait_until_settled(campaign, *, callbacks: bool, timeout: float) -> float:
    """Until every recipient has its message, every message left queued/sending and, with callbacks,
    every callback is applied and every message reads `read` (or nothing moved for 30 s). Returns
    time.time() when it settled."""
    from inbox.models import Message, WebhookEvent

    deadline = time.time() + timeout
    messages = Message.objects.filter(channel=campaign.channel_id)
    events = WebhookEvent.objects.filter(channel=campaign.channel_id)
    pending = campaign.recipients.filter(status="pending")
    last_seen, moved_at = None, time.time()
    while time.time() < deadline:
        counts = collections.Counter(messages.values_list("status", flat=True))
        received = events.filter(status="received").count() if callbacks else 0
        waiting = pending.count()
        seen = (tuple(sorted(counts.items())), received, waiting)
        if seen != last_seen:
            last_seen, moved_at = seen, time.time()
        sending = counts["queued"] + counts["sending"] + waiting
        if counts and not sending and (not callbacks or (not received and set(counts) <= {"read", "failed"})):
            return time.time()
        if counts and not sending and time.time() - moved_at > 30:
            return moved_at
        time.sleep(0.2)
    return time.time()


def _percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")


def measure(channel, campaign, settled_at: float) -> dict:
    from campaigns.models import Recipient
    from inbox.models import Message, SendAttempt, WebhookEvent
    from sandbox.models import SandboxMessage

    messages = Message.objects.filter(channel=channel)
    accepted = list(SendAttempt.objects.filter(message__in=messages, outcome="accepted").values_list("finished_at", flat=True))
    span = (max(accepted) - campaign.created_at).total_seconds() if accepted else float("nan")
    sends = collections.Counter(
        (m.payload.get("metaData") or {}).get("custom_callback_data")
        for m in SandboxMessage.objects.filter(channel=channel, direction="out").only("payload")
    )
    events = WebhookEvent.objects.filter(channel=channel)
    lags = sorted((done - received).total_seconds() for received, done in
                  events.exclude(processed_at=None).values_list("received_at", "processed_at"))
    applied = WebhookEvent.objects.filter(channel__phone_number__in=[channel.phone_number, PROBE_NUMBER]).exclude(processed_at=None).count()
    return {
        "messages": messages.count(), "recipients": Recipient.objects.filter(campaign=campaign).count(), "accepted": len(accepted),
        "span": span, "rate": len(accepted) / span if accepted else 0.0,
        "statuses": dict(collections.Counter(messages.values_list("status", flat=True))),
        "requests": sum(sends.values()), "duplicates": sum(n - 1 for n in sends.values() if n > 1),
        "callbacks": len(lags), "events_applied": applied, "unapplied": events.filter(processed_at=None).count(),
        "lag_p50": _percentile(lags, 0.5), "lag_p99": _percentile(lags, 0.99), "lag_max": lags[-1] if lags else float("nan"),
        "late": sum(1 for lag in lags if lag > 2.0),
        "settled_after": settled_at - campaign.created_at.timestamp(),
    }


def print_mode(f: dict) -> None:
    probe = f["probe"]
    print(f"---- callbacks {f['mode']}: {f['accepted']}/{f['recipients']} sent at {f['rate']:.1f} msg/s "
          f"({f['span']:.1f} s), duplicates {f['duplicates']}, statuses {f['statuses']}")
    if f["callbacks"]:
        print(f"     callbacks applied {f['callbacks']} (unapplied {f['unapplied']}), lag p50 {f['lag_p50'] * 1000:.0f} ms "
              f"p99 {f['lag_p99'] * 1000:.0f} ms max {f['lag_max'] * 1000:.0f} ms, over 2 s: {f['late']}")
    print(f"     probe ack p50 {probe.get('p50', 0):.1f} ms p99 {probe.get('p99', 0):.1f} ms ({probe.get('n', 0)} posts, "
          f"{probe.get('statuses')}); worker CPU {f['worker_cpu']:.1f} s, web CPU {f['web_cpu']:.1f} s; "
          f"load {f['load'][0][0]:.1f} → {f['load'][1][0]:.1f}")


def report(args, results: dict) -> None:
    print(f"campaign bench: {args.messages} template messages, {args.workers} Celery worker processes at nice {args.worker_nice}, "
          f"token bucket {args.rate:g}/s, probe {args.probe_rate:g} webhooks/s, PostgreSQL + Redis")
    print(next(iter(results.values()))["server"] if results else "")
    modes = list(results)
    rows = [
        ("sustained send rate (msg/s)", lambda f: f"{f['rate']:.1f}"),
        ("duplicate sends", lambda f: str(f["duplicates"])),
        ("callbacks applied", lambda f: str(f["callbacks"])),
        ("callback lag p50 / p99 (ms)", lambda f: f"{f['lag_p50'] * 1000:.0f} / {f['lag_p99'] * 1000:.0f}" if f["callbacks"] else "-"),
        ("probe ack p50 / p99 (ms)", lambda f: f"{f['probe'].get('p50', 0):.1f} / {f['probe'].get('p99', 0):.1f}"),
        ("worker CPU per message (ms)", lambda f: f"{f['worker_cpu'] / max(1, f['accepted']) * 1000:.1f}"),
        ("web CPU per message (ms)", lambda f: f"{f['web_cpu'] / max(1, f['accepted']) * 1000:.1f}"),
        ("web CPU per request (ms)", lambda f: f"{f['web_cpu'] / max(1, f['accepted'] + f['callbacks'] + f['probe'].get('n', 0)) * 1000:.1f}"),
        ("events applied (with probe)", lambda f: str(f["events_applied"])),
        ("load average (1 min) before → after", lambda f: f"{f['load'][0][0]:.1f} → {f['load'][1][0]:.1f}"),
    ]
    print(f"{'':38}" + "".join(f"{'callbacks ' + m:>22}" for m in modes))
    for name, cell in rows:
        print(f"{name:38}" + "".join(f"{cell(results[m]):>22}" for m in modes))
    if {"on", "off"} <= set(results):
        on, off = results["on"], results["off"]
        extra_events = on["events_applied"] - off["events_applied"]
        drain = (on["worker_cpu"] - off["worker_cpu"]) / max(1, extra_events) * 1000
        print(f"ratio send rate with / without callbacks: {on['rate'] / off['rate']:.2f}")
        print(f"drain CPU per event ((worker CPU on − off) / extra events applied): {drain:.2f} ms; "
              f"all worker CPU / events applied with callbacks on: {on['worker_cpu'] / max(1, on['events_applied']) * 1000:.2f} ms")
    if "on" in results:
        on = results["on"]
        met = on["rate"] >= 80 and on["lag_p99"] <= 2 and on["duplicates"] == 0 and on["probe"].get("p99", 1e9) < 50
        print(f"goal (≥ 80 msg/s, lag p99 ≤ 2 s, 0 duplicates, ack p99 < 50 ms, callbacks on): {'met' if met else 'missed'}")


if __name__ == "__main__":
    main()
