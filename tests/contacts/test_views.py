from contacts.models import Contact
from tests.factories import ContactFactory, ContactPhoneFactory, LabelFactory


def test_list_searches_phone_in_another_format(logged_in, agent):
    meera = ContactFactory(name="Meera Iyer")
    ContactPhoneFactory(contact=meera, number="+919812345678")
    ContactFactory(name="Rohan Das")
    response = logged_in(agent).get("/contacts/", {"q": "098123 45678"})
    assert b"Meera Iyer" in response.content and b"Rohan Das" not in response.content


def test_htmx_search_returns_only_the_results_partial(logged_in, agent):
    ContactFactory(name="Meera Iyer")
    response = logged_in(agent).get("/contacts/", {"q": "mee"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="contact-results")
    assert b"Meera Iyer" in response.content and b"<html" not in response.content


def test_create_with_invalid_phone_shows_the_error_and_saves_nothing(logged_in, agent):
    response = logged_in(agent).post("/contacts/new/", {"name": "X", "phones": "12345"})
    assert response.status_code == 200
    assert "“12345” is not a valid phone number.".encode() in response.content
    assert not Contact.objects.exists()


def test_create_and_edit(logged_in, agent):
    client = logged_in(agent)
    response = client.post("/contacts/new/", {"name": "Kavya", "phones": "09812345678\n+91 98765 43210", "owner": agent.pk})
    contact = Contact.objects.get()
    assert response["Location"] == f"/contacts/{contact.pk}/"
    assert contact.primary_phone == "+919812345678" and contact.owner == agent
    client.post(f"/contacts/{contact.pk}/edit/", {"name": "Kavya R", "phones": "9876543210"})
    contact.refresh_from_db()
    assert contact.name == "Kavya R" and [p.number for p in contact.phones.all()] == ["+919876543210"]


def test_agent_cannot_open_another_teams_contact(logged_in, agent, other_agent):
    foreign = ContactFactory(owner=other_agent)
    assert logged_in(agent).get(f"/contacts/{foreign.pk}/").status_code == 404


def test_detail_shows_notes_in_timeline_and_labels_toggle(logged_in, agent):
    contact = ContactFactory(name="Meera")
    label = LabelFactory(name="VIP")
    client = logged_in(agent)
    client.post(f"/contacts/{contact.pk}/notes/", {"body": "prefers <b>Hindi</b>"})
    page = client.get(f"/contacts/{contact.pk}/")
    assert b"prefers &lt;b&gt;Hindi&lt;/b&gt;" in page.content
    client.post(f"/contacts/{contact.pk}/labels/", {"label": label.pk}, HTTP_HX_REQUEST="true")
    assert list(contact.labels.all()) == [label]
    client.post(f"/contacts/{contact.pk}/labels/", {"label": label.pk})
    assert not contact.labels.exists()


def test_supervisor_merges_from_the_page(logged_in, supervisor):
    keep, dup = ContactFactory(name="Meera"), ContactFactory(name="Meera I")
    client = logged_in(supervisor)
    assert b"Meera I" in client.get(f"/contacts/{keep.pk}/merge/", {"q": "Meera"}).content
    response = client.post(f"/contacts/{keep.pk}/merge/", {"other": dup.pk})
    assert response["Location"] == f"/contacts/{keep.pk}/"
    assert not Contact.objects.filter(pk=dup.pk).exists()


def test_detail_shows_custom_fields_by_their_label(logged_in, agent):
    from contacts.models import CustomField

    CustomField.objects.create(key="city", label="City")
    CustomField.objects.create(key="vip", label="Key account", field_type="boolean")
    contact = ContactFactory(custom_fields={"city": "Jaipur", "vip": False})
    content = logged_in(agent).get(f"/contacts/{contact.pk}/").content.decode()
    assert "<dt>City</dt><dd>Jaipur</dd>" in content
    assert "<dt>Key account</dt><dd>No</dd>" in content
