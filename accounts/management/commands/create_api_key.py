from django.core.management.base import BaseCommand, CommandError

from accounts import api_keys
from accounts.models import User


class Command(BaseCommand):
    help = "Make an API key for a user and print it once (it is stored hashed and cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what the key is for")

    def handle(self, username, name, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user “{username}”.")
        key, raw = api_keys.create(user, name=name)
        self.stderr.write(f"API key “{key.name}” for {user.username} (shown once; use as Authorization: Bearer <key>):")
        self.stdout.write(raw)
