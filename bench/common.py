"""What the benchmarks share: production mode for the processes they run, and waiting for daphne."""

import http.client
import time

# DEBUG off, as in production. The secrets only ever serve benchmark databases.
PRODUCTION_MODE = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnop",
    "FIELD_ENCRYPTION_KEY": "c2FtcGFyay1kZXYta2V5LW5vdC1mb3ItcHJvZHVjdGk=",
}


def wait_for_server(host: str, port: int, timeout: float = 30) -> None:
    """Until daphne answers /healthz with 200; exits the benchmark if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(host, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"daphne did not start on {host}:{port}")
