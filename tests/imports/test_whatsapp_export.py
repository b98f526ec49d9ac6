"""The export parser over a corpus of real-shaped exports: Android and iOS, 12 h and 24 h clocks,
day- and month-first dates, markers in English and Hindi, and broken lines."""

import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports import whatsapp_export as wa

EXPORTS = Path(__file__).parent / "exports"


def lines(name):
    with open(EXPORTS / name, encoding="utf-8") as f:
        return f.readlines()


def parse(name, order=None):
    text = lines(name)
    return list(wa.parse(text, date_order=order or wa.scan(text).date_order))


def messages(records):
    return [r for r in records if isinstance(r, wa.ChatMessage)]


def test_android_24h_day_first():
    text = lines("android_24h_dmy.txt")
    scan = wa.scan(text)
    assert scan.date_order == wa.DMY
    assert dict(scan.senders) == {"Sharma Store": 3, "+91 98123 45678": 3}
    records = parse("android_24h_dmy.txt")
    assert isinstance(records[0], wa.SystemLine) and "end-to-end encrypted" in records[0].text
    assert isinstance(records[-1], wa.SystemLine) and records[-1].text == "Sharma Store added Ravi"
    msgs = messages(records)
    assert msgs[1].text == "Is the blue kurta in stock?\nSize M please\nand L too"
    assert msgs[1].at == datetime.datetime(2024, 1, 12, 10, 16)
    assert msgs[1].line == 3
    assert (msgs[2].media, msgs[2].media_kind, msgs[2].text) == ("IMG-20240113-WA0003.jpg", "image", "This one?")
    assert msgs[3].media_omitted and msgs[3].text == ""
    assert msgs[4].deleted
    assert msgs[5].edited and msgs[5].text == "Yes, both sizes"


def test_android_12h_month_first_with_narrow_no_break_space():
    text = lines("android_12h_mdy_nnbsp.txt")
    assert wa.scan(text).date_order == wa.MDY
    msgs = messages(parse("android_12h_mdy_nnbsp.txt"))
    assert [m.at for m in msgs] == [
        datetime.datetime(2024, 1, 13, 9, 2),
        datetime.datetime(2024, 1, 13, 12, 30),
        datetime.datetime(2024, 1, 13, 0, 5),
        datetime.datetime(2024, 1, 13, 23, 59),
    ]


def test_ios_marks_system_lines_and_attachments():
    records = parse("ios_12h_dmy.txt")
    assert isinstance(records[0], wa.SystemLine)
    msgs = messages(records)
    assert dict(wa.scan(lines("ios_12h_dmy.txt")).senders) == {"Asha": 2, "Sharma Store": 2}
    assert msgs[0].at == datetime.datetime(2024, 1, 12, 22, 15, 32)
    assert msgs[1].media == "00000012-PHOTO-2024-01-13-10-16-01.jpg" and msgs[1].at.hour == 10
    assert msgs[2].media_omitted
    assert msgs[3].deleted


def test_ambiguous_dates_are_left_to_the_importer():
    text = lines("ios_24h_ambiguous.txt")
    assert wa.scan(text).date_order is None
    assert messages(wa.parse(text, date_order=wa.DMY))[1].at.month == 2
    assert messages(wa.parse(text, date_order=wa.MDY))[1].at.month == 6


def test_hindi_markers_and_meridiem():
    msgs = messages(parse("hindi_markers.txt"))
    assert msgs[0].media_omitted
    assert msgs[1].deleted
    assert msgs[2].edited and msgs[2].text == "ठीक है"
    assert msgs[3].at == datetime.datetime(2024, 1, 13, 17, 17)


def test_malformed_lines_are_reported_with_line_numbers_and_good_lines_kept():
    records = parse("malformed.txt", wa.DMY)
    bad = [(r.line, r.reason.split(":")[0]) for r in records if isinstance(r, wa.Malformed)]
    assert bad == [(1, "Not a message line and not part of one"), (3, "Bad date or time"), (5, "Bad date or time"), (7, "Bad date or time")]
    assert [m.text for m in messages(records)] == ["fine", "fine again"]


def test_bidi_marks_and_crlf_line_ends_are_ignored():
    text = ["\ufeff12/01/2024, 10:15 - Shop: hi\r\n", "\u200e13/01/2024, 10:15 - Asha: hello\r\n"]
    assert [m.text for m in messages(wa.parse(text, date_order=wa.DMY))] == ["hi", "hello"]


senders = st.sampled_from(["Sharma Store", "Asha", "+91 98123 45678"])
texts = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=60).map(str.strip).filter(
    lambda t: t and not t.startswith("[") and wa.ANDROID_HEADER.match(t) is None and t not in wa.DELETED | wa.MEDIA_OMITTED
    and not wa.IOS_OMITTED.match(t) and not wa.ATTACHED_ANDROID.match(t) and not any(t.endswith(m) for m in wa.EDITED)
)
chat = st.lists(
    st.builds(
        wa.ChatMessage,
        line=st.just(0),
        at=st.datetimes(min_value=datetime.datetime(2015, 1, 1), max_value=datetime.datetime(2030, 12, 31)).map(lambda d: d.replace(microsecond=0)),
        sender=senders,
        text=st.lists(texts, min_size=1, max_size=3).map("\n".join),
        edited=st.booleans(),
    ),
    max_size=15,
)


@given(chat, st.sampled_from(["android", "ios"]), st.sampled_from([wa.DMY, wa.MDY]), st.sampled_from([12, 24]))
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)  # a loaded CI machine starves generation, not the parser
def test_render_then_parse_round_trips(messages_in, style, order, clock):
    rendered = list(wa.render(messages_in, style=style, date_order=order, clock=clock))
    parsed = messages(wa.parse(rendered, date_order=order))
    assert len(parsed) == len(messages_in)
    for before, after in zip(messages_in, parsed):
        expected_at = before.at if style == "ios" else before.at.replace(second=0)
        assert (after.at, after.sender, after.text, after.edited) == (expected_at, before.sender, before.text, before.edited)
