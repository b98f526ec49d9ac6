"""Template helpers of the inbox screen."""

from django.urls import reverse, set_script_prefix

from inbox.templatetags.inbox_ui import pk_url


def test_pk_url_is_what_reverse_gives_for_every_pk():
    for name in ("inbox:conversation", "inbox:thread", "inbox:header"):
        for pk in (1, 42, 8642097531, 10**12):
            assert pk_url(pk, name) == reverse(name, args=[pk])


def test_pk_url_follows_the_script_prefix_the_app_is_mounted_under():
    try:
        set_script_prefix("/crm/")
        assert pk_url(7, "inbox:conversation") == reverse("inbox:conversation", args=[7]) == "/crm/inbox/7/"
    finally:
        set_script_prefix("/")
