import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.models import Contact, ContactPhone, ImportJob
from tests.factories import ContactFactory, ContactPhoneFactory

CSV = """Full Name,Mobile,E-mail,Tags,City
Meera Iyer,09812345678,meera@example.in,VIP;Customer,Pune
Rohan Das,+91 98765 43210,not-an-email,,Delhi
Nobody,12345,,,
Meera again,919812345678,,Lead,
,,,,
Sunil Rao,98111 22233,sunil@example.in,,Kochi
"""


def _upload(client, text, name="people.csv"):
    return client.post("/contacts/import/", {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")})


def test_import_maps_headers_reports_bad_rows_and_merges_by_phone(logged_in, supervisor, django_capture_on_commit_callbacks):
    client = logged_in(supervisor)
    existing = ContactFactory(name="Sunil R", email="")
    ContactPhoneFactory(contact=existing, number="+919811122233")

    response = _upload(client, CSV)
    job = ImportJob.objects.get()
    assert response["Location"] == f"/contacts/import/{job.pk}/"
    assert job.mapping == {"Full Name": "name", "Mobile": "phone", "E-mail": "email", "Tags": "labels", "City": ""}

    page = client.get(f"/contacts/import/{job.pk}/")
    assert b"Meera Iyer" in page.content  # preview of the file
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/contacts/import/{job.pk}/", {"map_0": "name", "map_1": "phone", "map_2": "email", "map_3": "labels", "map_4": ""}
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.total_rows, job.processed_rows) == (6, 6)
    assert job.created_count == 1  # Meera
    assert job.updated_count == 2  # Meera again (same phone), Sunil (existing contact)
    assert [e["row"] for e in job.errors] == [3, 4]
    assert "email" in job.errors[0]["message"].lower()
    assert "12345" in job.errors[1]["message"]

    meera = ContactPhone.objects.get(number="+919812345678").contact
    assert meera.name == "Meera Iyer" and meera.email == "meera@example.in"
    assert set(meera.labels.values_list("name", flat=True)) == {"VIP", "Customer", "Lead"}
    existing.refresh_from_db()
    assert existing.name == "Sunil R" and existing.email == "sunil@example.in"
    assert Contact.objects.count() == 2

    progress = client.get(f"/contacts/import/{job.pk}/progress/")
    assert b"Done" in progress.content and b"Why it was skipped" in progress.content


def test_row_that_joins_two_existing_contacts_merges_them(logged_in, supervisor, django_capture_on_commit_callbacks):
    a, b = ContactFactory(name="A"), ContactFactory(name="B")
    ContactPhoneFactory(contact=a, number="+919812345678")
    ContactPhoneFactory(contact=b, number="+919876543210")
    client = logged_in(supervisor)
    _upload(client, "name,phone,phone2\nBoth,9812345678,9876543210\n")
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/contacts/import/{job.pk}/", {"map_0": "name", "map_1": "phone", "map_2": "phone"})
    assert Contact.objects.count() == 1
    assert Contact.objects.get().phones.count() == 2


def test_mapping_without_phone_or_name_is_refused_with_a_message(logged_in, supervisor):
    client = logged_in(supervisor)
    _upload(client, "email\na@example.in\n")
    job = ImportJob.objects.get()
    response = client.post(f"/contacts/import/{job.pk}/", {"map_0": "email"})
    assert b"Map at least one column to Phone or Name" in response.content
    job.refresh_from_db()
    assert job.processed_rows == 0


def test_upload_errors_are_shown(logged_in, supervisor):
    client = logged_in(supervisor)
    response = _upload(client, "\n")
    assert b"The file has no header row." in response.content
    response = client.post("/contacts/import/", {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00bad\x00", content_type="text/csv")})
    assert b"This is not a CSV file" in response.content
    assert not ImportJob.objects.exists()


def test_export_streams_every_visible_contact_with_custom_fields(logged_in, supervisor):
    contact = ContactFactory(name="Meera", custom_fields={"city": "Pune"})
    ContactPhoneFactory(contact=contact, number="+919812345678")
    from contacts.models import CustomField

    CustomField.objects.create(key="city", label="City")
    response = logged_in(supervisor).get("/contacts/export.csv?q=meera")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][-1] == "city"
    assert rows[1][1:4] == ["Meera", "+919812345678", ""] and rows[1][-1] == "Pune"
