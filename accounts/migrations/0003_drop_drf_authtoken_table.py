"""DRF's plain-text tokens are gone (replaced by hashed API keys): drop their table where it exists.

Their keys were readable by anyone with database or admin access, so they are not carried over:
users make API keys at /accounts/api-keys/.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_api_keys")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop),
    ]
