from django.db import migrations, models

WHATSAPP_HOST = "https://wb.omni.tatatelebusiness.com"
RCS_HOST = "https://api.omni.tatatelebusiness.com"


def rcs_channels_to_the_rcs_host(apps, schema_editor):
    """RCS channels created with the WhatsApp host (the old default for every kind) talk to the RCS host."""
    Channel = apps.get_model("inbox", "Channel")
    Channel.objects.filter(kind="rcs", api_base_url__in=[WHATSAPP_HOST, WHATSAPP_HOST + "/"]).update(api_base_url=RCS_HOST)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0004_conversation_list_indexes_nulls_last")]

    operations = [
        # Existing channels keep the form they have been sending (Bearer); new ones start with the reference's.
        migrations.AddField(
            model_name="channel",
            name="auth_scheme",
            field=models.CharField(
                choices=[("plain", "Authorization: <token> (as the omni reference shows)"), ("bearer", "Authorization: Bearer <token>")],
                default="bearer", max_length=8, verbose_name="Authorization header",
                help_text="how the token is sent; “Test connection” on the channel list says which form Tata accepts",
            ),
        ),
        migrations.AlterField(
            model_name="channel",
            name="auth_scheme",
            field=models.CharField(
                choices=[("plain", "Authorization: <token> (as the omni reference shows)"), ("bearer", "Authorization: Bearer <token>")],
                default="plain", max_length=8, verbose_name="Authorization header",
                help_text="how the token is sent; “Test connection” on the channel list says which form Tata accepts",
            ),
        ),
        migrations.AlterField(
            model_name="channel",
            name="api_base_url",
            field=models.URLField(
                default=WHATSAPP_HOST,
                help_text="left at a Tata default, follows the kind: WhatsApp and RCS have different API hosts",
            ),
        ),
        migrations.RunPython(rcs_channels_to_the_rcs_host, migrations.RunPython.noop),
    ]
