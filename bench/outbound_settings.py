"""bench/outbound.py --no-callbacks: the sandbox holds its status callbacks back for an hour, so the
run measures sending alone (callback ingest has its own benchmark, bench/ingest.py)."""

from config.settings import *  # noqa: F403

SANDBOX_CALLBACK_DELAYS = (3600, 3600, 3600)
