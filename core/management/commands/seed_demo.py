"""Create a believable demo data set. Idempotent: run it again and nothing is duplicated.

Each app may have a `demo.py` with `seed(rng, stdout)`; they run in INSTALLED_APPS order, so
accounts and contacts exist before the inbox or dialplans build on them.
"""

import importlib
import random

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create demo agents, teams and contacts (and whatever other apps add)."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=300)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, contacts, seed, **options):
        rng = random.Random(seed)
        for app in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{app.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(rng=rng, stdout=self.stdout, contacts=contacts)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
