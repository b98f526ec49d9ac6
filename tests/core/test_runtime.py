import gc

from core.runtime import freeze_startup_objects


def test_startup_objects_leave_the_collectors_full_passes():
    gc.unfreeze()
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 10_000  # Django's models, URL patterns, phone metadata...
    finally:
        gc.unfreeze()
