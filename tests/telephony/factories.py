import factory

from telephony.models import Call, TelephonyConnection


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TelephonyConnection

    provider = "tata_smartflo"
    name = factory.Sequence(lambda n: f"Smartflo {n}")
    auth_token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.test-token-value"
    base_url = "https://smartflo.test"
    phone_numbers = ["+918069000000"]


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    connection = factory.SubFactory(ConnectionFactory)
    provider_call_id = factory.Sequence(lambda n: f"call-{n}")
    direction = "inbound"
    status = "answered"
    customer_number = "+919812345678"
    did_number = "+918069000000"
