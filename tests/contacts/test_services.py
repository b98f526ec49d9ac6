import pytest
from django.core.exceptions import ValidationError

from contacts import services
from contacts.models import Contact, ContactPhone, CustomField, Note
from contacts.selectors import search_contacts, visible_contacts
from tests.factories import ContactFactory, ContactPhoneFactory, LabelFactory


def test_find_or_create_by_phone_is_one_contact_for_every_form(db):
    first, created = services.find_or_create_by_phone("09812345678", name="Meera")
    assert created
    for form in ["+91 98123 45678", "919812345678", "98123-45678"]:
        again, created = services.find_or_create_by_phone(form, name="Someone else")
        assert not created and again.pk == first.pk
    assert Contact.objects.get().name == "Meera"
    assert ContactPhone.objects.get().number == "+919812345678"


def test_find_or_create_fills_a_missing_name(db):
    contact, _ = services.find_or_create_by_phone("9812345678")
    services.find_or_create_by_phone("9812345678", name="Kavya")
    contact.refresh_from_db()
    assert contact.name == "Kavya"


def test_create_rejects_invalid_and_taken_numbers(db):
    services.create_contact(services.ContactData(name="A", phones=["9812345678"]))
    with pytest.raises(ValidationError) as info:
        services.create_contact(services.ContactData(name="B", phones=["12345", "+91 98123 45678"]))
    assert "12345" in str(info.value.message_dict["phones"])
    with pytest.raises(ValidationError) as info:
        services.create_contact(services.ContactData(name="B", phones=["+91 98123 45678"]))
    assert "already belongs to A" in info.value.message_dict["phones"][0]


def test_first_phone_is_primary_and_update_replaces_the_set(db):
    contact = services.create_contact(services.ContactData(name="A", phones=["9812345678", "9876543210"]))
    assert contact.primary_phone == "+919812345678"
    services.update_contact(contact, services.ContactData(name="A", phones=["9876543210"]))
    assert list(contact.phones.values_list("number", "is_primary")) == [("+919876543210", True)]


def test_custom_fields_are_validated_against_definitions(db):
    CustomField.objects.create(key="renewal", label="Renewal", field_type="date")
    CustomField.objects.create(key="seats", label="Seats", field_type="number")
    CustomField.objects.create(key="plan", label="Plan", field_type="choice", choices="Basic, Plus")
    contact = services.create_contact(
        services.ContactData(name="A", custom_fields={"renewal": "2026-12-01", "seats": "12", "plan": "Plus"})
    )
    assert contact.custom_fields == {"renewal": "2026-12-01", "seats": 12, "plan": "Plus"}
    with pytest.raises(ValidationError) as info:
        services.update_contact(contact, services.ContactData(name="A", custom_fields={"seats": "many", "nope": 1, "plan": "Gold"}))
    errors = " ".join(info.value.message_dict["custom_fields"])
    assert "Seats" in errors and "“nope” is not a custom field" in errors and "Plan" in errors


def test_merge_moves_everything_and_loses_nothing(db, agent):
    keep = ContactFactory(name="Meera Iyer", email="")
    ContactPhoneFactory(contact=keep, number="+919812345678")
    duplicate = ContactFactory(name="M. Iyer", email="meera@example.in", owner=agent, custom_fields={"city": "Pune"})
    ContactPhoneFactory(contact=duplicate, number="+919876543210")
    label = LabelFactory(name="VIP")
    duplicate.labels.add(label)
    services.add_note(duplicate, author=agent, body="call after 6")

    kept = services.merge_contacts(keep, duplicate, by=agent)

    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    assert kept.name == "Meera Iyer" and kept.email == "meera@example.in" and kept.owner == agent
    assert kept.custom_fields == {"city": "Pune"}
    assert set(kept.phones.values_list("number", flat=True)) == {"+919812345678", "+919876543210"}
    assert kept.phones.filter(is_primary=True).count() == 1
    assert list(kept.labels.all()) == [label]
    bodies = set(Note.objects.filter(contact=kept).values_list("body", flat=True))
    assert "call after 6" in bodies and any(b.startswith("Merged M. Iyer") for b in bodies)


def test_merge_runs_registered_hooks(db):
    seen = []
    services.MERGE_HOOKS.append(lambda keep, dup: seen.append((keep.pk, dup.pk)))
    try:
        a, b = ContactFactory(), ContactFactory()
        services.merge_contacts(a, b)
    finally:
        services.MERGE_HOOKS.pop()
    assert seen == [(a.pk, b.pk)]


def test_merge_with_itself_is_refused(db):
    contact = ContactFactory()
    with pytest.raises(ValidationError):
        services.merge_contacts(contact, contact)


def test_agents_see_unowned_own_and_teammates_contacts_only(agent, teammate, other_agent, supervisor):
    mine, teams, unowned, foreign = (
        ContactFactory(owner=agent), ContactFactory(owner=teammate), ContactFactory(owner=None), ContactFactory(owner=other_agent)
    )
    assert set(visible_contacts(agent)) == {mine, teams, unowned}
    assert set(visible_contacts(other_agent)) == {unowned, foreign}
    assert set(visible_contacts(supervisor)) == {mine, teams, unowned, foreign}


@pytest.mark.parametrize("query", ["09812345678", "+91 98123 45678", "919812345678", "98123", "0981 23", "45678"])
def test_search_by_phone_in_any_form(db, query):
    target = ContactFactory(name="Target")
    ContactPhoneFactory(contact=target, number="+919812345678")
    ContactPhoneFactory(contact=ContactFactory(name="Other"), number="+919700000001")
    assert list(search_contacts(Contact.objects.all(), query)) == [target]


def test_search_by_name_and_email(db):
    meera = ContactFactory(name="Meera Iyer", email="meera@example.in")
    ContactFactory(name="Rohan Das", email="rohan@example.in")
    assert list(search_contacts(Contact.objects.all(), "mee")) == [meera]
    assert list(search_contacts(Contact.objects.all(), "iyer")) == [meera]
    assert list(search_contacts(Contact.objects.all(), "meera@")) == [meera]


def test_phone_search_lists_numbers_ending_with_the_digits_first(db):
    middle = ContactFactory(name="Aarav")  # alphabetically first, but the digits are mid-number
    ContactPhoneFactory(contact=middle, number="+919845670001")
    ending = ContactFactory(name="Zoya")
    ContactPhoneFactory(contact=ending, number="+919800004567")
    assert list(search_contacts(Contact.objects.all(), "4567")) == [ending, middle]
