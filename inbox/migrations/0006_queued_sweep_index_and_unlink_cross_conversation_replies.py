from django.db import migrations, models


def unlink_cross_conversation_replies(apps, schema_editor):
    """Ingest used to link a reply or reaction to a message with the quoted provider id anywhere on the
    channel; links into another conversation showed another audience's words as a quote. Undo them
    (the reply keeps the quoted id and shows as quoting a message not in Sampark)."""
    Message = apps.get_model("inbox", "Message")
    Message.objects.filter(reply_to__isnull=False).exclude(reply_to__conversation_id=models.F("conversation_id")).update(reply_to=None)


class Migration(migrations.Migration):

    dependencies = [
        ("inbox", "0005_channel_auth_scheme_and_rcs_host"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("status__in", ["queued", "sending"])), fields=["status_updated_at"], name="msg_unsettled_outbound"
            ),
        ),
        migrations.RunPython(unlink_cross_conversation_replies, migrations.RunPython.noop),
    ]
