"""Process tuning shared by every long-running process (daphne, gunicorn, Celery workers, in-process
benches), run once at start-up."""

import gc


def freeze_startup_objects() -> None:
    """Take everything loaded at startup out of the garbage collector's full passes.

    A Django process holds ~120k container objects after setup (models, URL patterns, phonenumbers
    metadata...). On this project's 2-core machines a full collection walks them in 60–90 ms, and one
    lands on a random request every few hundred: that single pause was the p99 of every benchmark.
    `gc.freeze()` moves them to a permanent generation; later garbage is still collected normally.
    Lazy caches are filled first so they are frozen too.
    """
    from django.urls import get_resolver

    from core import phones

    get_resolver().url_patterns  # noqa: B018 - builds the resolver's caches
    phones.try_e164("+919812345678")  # loads phonenumbers' metadata for the default region
    gc.collect()
    gc.freeze()
