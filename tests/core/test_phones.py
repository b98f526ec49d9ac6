import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from core import phones


@pytest.mark.parametrize(
    "typed",
    ["09812345678", "+91 98123 45678", "919812345678", "9812345678", "+91-98123-45678", "(+91) 98123 45678", "0091 98123 45678"],
)
def test_every_form_of_one_indian_mobile_is_one_e164(typed):
    assert phones.to_e164(typed) == "+919812345678"


def test_foreign_numbers_keep_their_country():
    assert phones.to_e164("+44 20 7946 0958") == "+442079460958"
    assert phones.to_e164("+1 (415) 555-2671") == "+14155552671"


@pytest.mark.parametrize("bad", ["", "   ", "12345", "abcdefghij", "+91 12345", "98123456789012345"])
def test_invalid_numbers_are_refused_with_a_message(bad):
    with pytest.raises(ValidationError) as info:
        phones.to_e164(bad)
    assert info.value.messages[0]


def test_provider_and_national_forms():
    assert phones.provider_digits("+919812345678") == "919812345678"
    assert phones.national_digits("+919812345678") == "9812345678"


def test_search_digits_normalises_full_numbers_and_strips_trunk_zero_from_fragments():
    assert phones.search_digits("098123 45678") == "919812345678"
    assert phones.search_digits("098123") == "98123"
    assert phones.search_digits("+91 98123") == "9198123"
    assert phones.search_digits("0000") == "000"


indian_mobile = st.builds(
    lambda first, rest: f"{first}{rest:09d}", st.sampled_from("6789"), st.integers(min_value=0, max_value=999_999_999)
).filter(lambda n: phones.try_e164(n) is not None)


@settings(max_examples=200, deadline=None)
@given(national=indian_mobile, spaced=st.booleans())
def test_property_all_typed_forms_agree(national, spaced):
    e164 = phones.to_e164(national)
    grouped = f"{national[:5]} {national[5:]}" if spaced else national
    forms = [f"0{grouped}", f"+91 {grouped}", f"91{national}", grouped, f"+91-{national}"]
    assert {phones.to_e164(form) for form in forms} == {e164}
    assert phones.to_e164(e164) == e164  # idempotent
    assert phones.to_e164(phones.provider_digits(e164)) == e164  # provider round trip
