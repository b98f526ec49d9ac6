"""Contact search at 100,000 contacts on PostgreSQL: p50/p99 of the searches agents type.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sampark_bench .venv/bin/python bench/contacts.py

Creates (once) 100k contacts with Indian mobiles in a dedicated database, then times the same code path
the contact list uses (visible_contacts → search_contacts → the match count, then the first page with
phones and labels), for phone fragments typed in several forms and for name prefixes. Goal: p99 < 50 ms.
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.common import PRODUCTION_MODE, machine_reference  # noqa: E402

for name, value in PRODUCTION_MODE.items():  # as in production: DEBUG off, no query log
    os.environ.setdefault(name, value)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from contacts import selectors  # noqa: E402
from contacts.demo import FIRST, LAST  # noqa: E402
from contacts.models import Contact, ContactPhone  # noqa: E402
from core.startup import freeze_startup_objects  # noqa: E402

N_CONTACTS = int(os.environ.get("BENCH_CONTACTS", 100_000))
QUERIES_PER_KIND = int(os.environ.get("BENCH_QUERIES", 200))
PAGE = 50


def ensure_data(rng: random.Random) -> list[str]:
    existing = Contact.objects.count()
    if existing < N_CONTACTS:
        print(f"creating {N_CONTACTS - existing} contacts…", flush=True)
        numbers = set(ContactPhone.objects.values_list("number", flat=True))
        batch = 5000
        while existing < N_CONTACTS:
            size = min(batch, N_CONTACTS - existing)
            contacts = Contact.objects.bulk_create(
                [Contact(name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", email="") for _ in range(size)]
            )
            phones = []
            for contact in contacts:
                number = f"+91{rng.choice('6789')}{rng.randrange(100_000_000, 999_999_999)}"
                while number in numbers:
                    number = f"+91{rng.choice('6789')}{rng.randrange(100_000_000, 999_999_999)}"
                numbers.add(number)
                phones.append(ContactPhone(contact=contact, number=number, is_primary=True))
            ContactPhone.objects.bulk_create(phones)
            existing += size
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_contact; ANALYZE contacts_contactphone;")
    return list(ContactPhone.objects.order_by("?").values_list("number", flat=True)[:QUERIES_PER_KIND])


def timed(user, query: str) -> float:
    start = time.perf_counter()
    contacts = selectors.search_contacts(selectors.visible_contacts(user), query)
    contacts.count()  # the list page shows how many matched
    page = list(selectors.with_list_data(contacts)[:PAGE])
    for contact in page:  # what the template touches
        list(contact.phones.all())
        list(contact.labels.all())
    return (time.perf_counter() - start) * 1000


def report(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"{label:<40} n={len(samples):<4} p50={p50:6.2f} ms  p99={p99:6.2f} ms")


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL: set DATABASE_URL=postgres://…")
    call_command("migrate", verbosity=0)
    rng = random.Random(42)
    numbers = ensure_data(rng)
    user, _ = User.objects.get_or_create(username="bench-supervisor", defaults={"role": Role.SUPERVISOR})
    agent, _ = User.objects.get_or_create(username="bench-agent", defaults={"role": Role.AGENT})
    print(machine_reference())
    print(f"database: {settings.DATABASES['default']['NAME']}, contacts: {Contact.objects.count()}")
    freeze_startup_objects()  # as daphne does at startup (config/asgi.py)

    forms = {
        "phone, full, typed 0XXXXX XXXXX": lambda n: f"0{n[3:8]} {n[8:]}",
        "phone, full, +91 XXXXX XXXXX": lambda n: f"+91 {n[3:8]} {n[8:]}",
        "phone, fragment of 5 digits": lambda n: n[5:10],
        "phone, trailing 4 digits": lambda n: n[-4:],
    }
    for name in list(forms):
        timed(user, forms[name](numbers[0]))  # warm
    all_samples = []
    for label, make in forms.items():
        samples = [timed(user, make(n)) for n in numbers]
        report(label, samples)
        all_samples += samples
    prefixes = [rng.choice(FIRST)[: rng.randint(3, 5)] for _ in range(QUERIES_PER_KIND)]
    samples = [timed(user, p) for p in prefixes]
    report("name prefix (3–5 letters)", samples)
    all_samples += samples
    samples = [timed(agent, p) for p in prefixes]
    report("name prefix, as an agent (role filter)", samples)
    all_samples += samples
    report("ALL searches", all_samples)


if __name__ == "__main__":
    main()
