from core.fields import SecretWidget, decrypt, encrypt, mask


def test_round_trip_and_ciphertext_differs():
    stored = encrypt("tok-123456789")
    assert "tok-123456789" not in stored
    assert decrypt(stored) == "tok-123456789"


def test_mask_shows_only_the_tail():
    assert mask("abcdefghijkl1234") == "••••••••1234"
    assert mask("short") == "••••••••"
    assert mask("") == ""


def test_secret_widget_never_renders_the_value():
    html = SecretWidget().render("token", "super-secret-token-9876")
    assert "super-secret-token" not in html
    assert "9876" in html  # the masked tail, so a person can recognise it
    assert 'type="password"' in html


def test_empty_secret_box_means_keep():
    widget = SecretWidget()
    assert widget.value_omitted_from_data({"token": ""}, {}, "token")
    assert widget.value_from_datadict({"token": "new"}, {}, "token") == "new"


def test_any_django_admin_form_masks_encrypted_fields(rf, admin_user):
    """Admin's own TextField textarea must not win over the secret widget, with no per-admin override."""
    from django.contrib import admin

    from inbox.models import Channel

    channel = Channel.objects.create(name="Main", phone_number="+919876500001", access_token="jwt-very-secret-abcd1234")
    request = rf.get("/")
    request.user = admin_user
    form_class = admin.ModelAdmin(Channel, admin.site).get_form(request, channel)
    html = str(form_class(instance=channel)["access_token"])
    assert "jwt-very-secret" not in html
    assert 'type="password"' in html and "1234" in html  # only the masked tail
