"""`runserver` (daphne's: HTTP and websockets), told which port it serves on: unless PUBLIC_BASE_URL is
configured, the URLs Sampark shows and the sandbox's channels follow it (`make run PORT=8100`)."""

from daphne.management.commands.runserver import Command as DaphneRunserver

from core import runtime


class Command(DaphneRunserver):
    def inner_run(self, *args, **options):
        base = runtime.serve_on(self.addr, int(self.port))
        self.stdout.write(f"Sampark's public base is {base}\n")
        return super().inner_run(*args, **options)
