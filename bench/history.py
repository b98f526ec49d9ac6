"""History import throughput and memory on PostgreSQL: a generated WhatsApp chat export.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sampark_history_bench .venv/bin/python bench/history.py [N]

Writes an Android-style export of N messages (default 100,000; the issue's target is 1,000,000) to a
temporary file, then imports it with the same code the "Import history" page runs (create job → scan
→ run in batches), and prints messages/s and the resident-memory growth during the run, for N/10 and
N, so flat memory shows as the same growth at both sizes, and the CPU per message (this process and
its PostgreSQL backend: on a shared machine messages/s follows the CPU share the run got). Side by
side, on the same machine in the same run, the ceilings: parsing alone (no database), a bare
bulk_create of prepared rows, and the writer's insert alone on prepared rows (bulk_rows.copy_insert_new:
what the table's indexes let PostgreSQL take).
Goal (issue #15): ≥ 5,000 messages/s, memory flat in the file's size.

History-webhook mode (`--webhook [N]`, default 100,000): a Meta coexistence `history` webhook of N
messages (Tata's envelope, threads of 50 messages) is stored as the webhook view stores it, drained
(the coexistence hook queues its import job) and applied by the job in batches, in this process as a
Celery worker would; printed: messages/s beside the same run's ceilings (parsing alone, bare
bulk_create), the resident-memory growth, and the time the view's own work on that body takes (JSON
check + insert: what the ack waits for). Meanwhile the production shape (deploy/serve.py) takes live
inbound webhooks, paced, from a separate process: their ack p50/p99 alone and during the apply.
Goal (issue #15): ≥ 10,000 messages/s applied, live acks p99 < 50 ms.
"""

import datetime
import functools
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.common import PRODUCTION_MODE, ensure_database, machine_reference  # noqa: E402

for name, value in PRODUCTION_MODE.items():
    os.environ.setdefault(name, value)
ensure_database(os.environ.get("DATABASE_URL", ""))

import django  # noqa: E402

django.setup()

from django.core.files import File  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from bench.history_webhook import ceilings, clear_messages, cpu, cpu_line  # noqa: E402
from imports import services  # noqa: E402
from imports import whatsapp_export as wa  # noqa: E402
from inbox.models import Channel, Conversation  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
print = functools.partial(print, flush=True)  # noqa: A001  (lines appear as they are measured, also when redirected)


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def write_export(path: str, n: int, phone: str) -> None:
    start = datetime.datetime(2020, 1, 1, 9, 0)

    def messages():
        for i in range(n):
            sender = "Sharma Store" if i % 3 else phone
            text = f"message {i} about order #{i % 9973}" + ("\nsecond line" if i % 10 == 0 else "")
            yield wa.ChatMessage(line=0, at=start + datetime.timedelta(seconds=37 * i), sender=sender, text=text)

    with open(path, "w", encoding="utf-8") as out:
        out.writelines(wa.render(messages(), style="android", date_order=wa.DMY, clock=24))


def parse_only(path: str) -> float:
    started = time.perf_counter()
    with open(path, encoding="utf-8") as lines:
        count = sum(1 for record in wa.parse(lines, date_order=wa.DMY) if isinstance(record, wa.ChatMessage))
    return count / (time.perf_counter() - started)


def import_once(path: str, user, channel, phone: str) -> tuple[float, int, int, str]:
    clear_messages(channel)
    peak = [0]
    baseline = rss()
    spent = cpu()
    started = time.perf_counter()
    with open(path, "rb") as handle:
        job = services.create_whatsapp_job(by=user, upload=File(handle, name="chat.txt"))
    services.start(job, services.Answers(channel=channel, business_sender="Sharma Store", contact_phone=phone, date_order=wa.DMY), by=user, run_now=True)
    job = services.run(job.pk, on_progress=lambda j: peak.__setitem__(0, max(peak[0], rss())))
    elapsed = time.perf_counter() - started
    return job.imported_count / elapsed, job.imported_count, max(peak[0], rss()) - baseline, cpu_line(spent, job.imported_count)


def main() -> None:
    if "--webhook" in sys.argv:
        from bench.history_webhook import main as webhook_main

        return webhook_main([a for a in sys.argv[1:] if a != "--webhook"])
    if connection.vendor != "postgresql":
        raise SystemExit("Run on PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/sampark_history_bench")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    call_command("migrate", verbosity=0)
    user = User.objects.filter(username="bench-importer").first() or User.objects.create_user("bench-importer", role=Role.ADMIN)
    channel, _ = Channel.objects.get_or_create(kind=Channel.Kind.WHATSAPP, phone_number="+919876599999", defaults={"name": "Bench"})
    phone = "+91 98123 40000"
    print(machine_reference())
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as directory:
        for size in (n // 10, n):
            path = os.path.join(directory, f"chat-{size}.txt")
            write_export(path, size, phone)
            print(f"\n{size:,} messages ({os.path.getsize(path) / 1024 / 1024:.1f} MB export)")
            print(f"  ceiling, parse only (no database):  {parse_only(path):>9,.0f} messages/s")
            rate, imported, growth, spent = import_once(path, user, channel, phone)
            print(f"  import (scan + parse + dedupe + insert): {rate:>9,.0f} messages/s, {imported:,} imported, "
                  f"memory growth {growth / 1024 / 1024:.1f} MB; {spent}")  # fmt: skip
            conversation = Conversation.objects.get(channel=channel)
            clear_messages(channel)
            print(ceilings(size, channel, conversation))
    clear_messages(channel)


if __name__ == "__main__":
    main()
