import gc

from core.startup import freeze_startup_objects


def test_startup_objects_leave_the_collectors_full_passes():
    gc.unfreeze()
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 10_000  # Django's models, URL patterns, phone metadata...
    finally:
        gc.unfreeze()


def test_a_task_is_enqueued_by_its_name_so_services_need_not_import_tasks():
    from core.tasks import named
    from inbox.tasks import deliver_message

    assert named("inbox.deliver_message").run == deliver_message.run
    assert named(deliver_message) is deliver_message
