from django.db import migrations


class Migration(migrations.Migration):
    """AgentLine now lives in the telephony app; its table (dialplan_agentline) is kept as it is."""

    dependencies = [
        ('dialplan', '0001_initial'),
        ('telephony', '0001_calls_connections_and_agent_lines'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='AgentLine')],
            database_operations=[],
        ),
    ]
