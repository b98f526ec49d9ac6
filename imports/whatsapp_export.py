"""Parse the chat history WhatsApp's "Export chat" writes (Android and iOS), line by line.

Pure: text lines in, typed records out; no database, no Django. The file is read once to decide the
date order (`scan`) and once more to parse (`parse`); both hold one message at a time, so memory stays
flat in the file's size.

Formats handled (the separators and clock vary with the phone's locale settings):
    Android  12/01/2024, 10:15 - Asha: text          12/01/24, 10:15 pm - Asha: text
    iOS      [12/01/24, 10:15:32 PM] Asha: text       (U+200E marks before system lines and attachments)
Newer phones put a narrow no-break space (U+202F) before AM/PM. A line that starts no message
continues the one before it (multi-line messages).
"""

import dataclasses
import datetime
import re
from collections import Counter
from collections.abc import Iterable, Iterator

DMY = "dmy"
MDY = "mdy"

# Bidirectional marks iOS and some Android locales scatter through the file.
_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"), None)

_DATE = r"(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{2}|\d{4})"
_TIME = r"(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2}))?"
# "AM", "a.m.", "am" and the Hindi locale's पूर्वाह्न (forenoon) / अपराह्न (afternoon).
_MERIDIEM = r"(?:[\s\u202f\u00a0]*(?P<ampm>[AaPp]\.?\s?[Mm]\.?|पूर्वाह्न|अपराह्न))?"
ANDROID_HEADER = re.compile(rf"^{_DATE},?\s{_TIME}{_MERIDIEM}\s[-–]\s(?P<rest>.*)$")
IOS_HEADER = re.compile(rf"^\[{_DATE},?\s{_TIME}{_MERIDIEM}\]\s(?P<rest>.*)$")

# The strings WhatsApp writes in place of content, in English and Hindi. The English ones are what
# current Android and iOS builds write; the Hindi ones are those seen in Hindi-locale exports and
# may differ between app versions (docs/history-import.md lists them).
DELETED = {
    "This message was deleted",
    "You deleted this message",
    "यह मैसेज हटा दिया गया था",
    "आपने यह मैसेज हटा दिया",
    "यह संदेश हटा दिया गया था",
    "आपने यह संदेश हटा दिया",
}
EDITED = ("<This message was edited>", "<यह मैसेज एडिट किया गया था>", "<यह संदेश संपादित किया गया था>")
MEDIA_OMITTED = {"<Media omitted>", "<मीडिया हटाया गया>", "<मीडिया छोड़ा गया>"}
IOS_OMITTED = re.compile(r"^(image|video|audio|sticker|document|GIF|Contact card) omitted$", re.IGNORECASE)
ATTACHED_IOS = re.compile(r"^<(?:attached|संलग्न): (?P<file>[^<>]+)>$")
ATTACHED_ANDROID = re.compile(r"^(?P<file>[^\s/\\][^/\\]*?\.\w{1,5}) \((?:file attached|फ़ाइल संलग्न है|फाइल संलग्न है)\)$")
SYSTEM_PHRASES = (
    "Messages and calls are end-to-end encrypted",
    "Messages to this chat and calls are now secured with end-to-end encryption",
    "Messages to this group are now secured with end-to-end encryption",
    "created group",
    " added ",
    " left",
    " removed ",
    " changed the subject",
    " changed this group's icon",
    " changed their phone number",
    "security code changed",
    "Your security code with",
    "is a contact",
    "uses a default timer for disappearing messages",
    "This business account has now registered as a standard account",
    "संदेश और कॉल एंड-टू-एंड एन्क्रिप्टेड हैं",
    "मैसेज और कॉल एंड-टू-एंड एन्क्रिप्टेड हैं",
)
KIND_BY_EXTENSION = {
    "jpg": "image", "jpeg": "image", "png": "image", "webp": "sticker", "gif": "video",
    "mp4": "video", "3gp": "video", "mov": "video",
    "opus": "audio", "ogg": "audio", "m4a": "audio", "aac": "audio", "mp3": "audio", "amr": "audio",
}  # fmt: skip


@dataclasses.dataclass
class ChatMessage:
    line: int  # where the message starts (1-based)
    at: datetime.datetime  # naive: the phone's local time, as written
    sender: str
    text: str = ""
    media: str = ""  # the file name in the zip, when the line names one
    media_omitted: bool = False  # exported without media: we know there was one, not what
    deleted: bool = False
    edited: bool = False

    @property
    def media_kind(self) -> str:
        return KIND_BY_EXTENSION.get(self.media.rsplit(".", 1)[-1].lower(), "document") if self.media else ""


@dataclasses.dataclass
class SystemLine:
    line: int
    at: datetime.datetime
    text: str


@dataclasses.dataclass
class Malformed:
    line: int
    text: str
    reason: str


@dataclasses.dataclass
class Scan:
    """What one pass over the file tells the importer before it asks its questions."""

    date_order: str | None  # DMY or MDY when the file decides; None when every date fits both
    senders: Counter  # name → number of messages (the first few hundred names at most)
    lines: int


def _header(line: str) -> re.Match | None:
    return IOS_HEADER.match(line) or ANDROID_HEADER.match(line)


def scan(lines: Iterable[str], *, max_senders: int = 200) -> Scan:
    """Decide the date order (any first field > 12 means day-first, any second field > 12 month-first)
    and count who wrote; a file where both happen is not one export and gets None."""
    day_first = month_first = False
    senders: Counter = Counter()
    count = 0
    for count, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        match = _header(line.translate(_MARKS))
        if not match:
            continue
        match = _header(line) or match  # the raw rest keeps the marks that tell iOS system lines
        a, b = int(match["a"]), int(match["b"])
        day_first |= a > 12
        month_first |= b > 12
        sender, _, _ = _split_sender(match["rest"])
        if sender is not None and (sender in senders or len(senders) < max_senders):
            senders[sender] += 1
    order = DMY if day_first and not month_first else MDY if month_first and not day_first else None
    return Scan(date_order=order, senders=senders, lines=count)


def _split_sender(rest: str) -> tuple[str | None, str, bool]:
    """(sender, text, is_system). iOS writes system lines as "Chat name: ‎text" (a U+200E first)."""
    sender, sep, text = rest.partition(": ")
    if not sep or not sender.strip():
        return None, rest, True
    if text.startswith("\u200e") and any(phrase in text for phrase in SYSTEM_PHRASES):
        return None, text.translate(_MARKS), True
    return sender.translate(_MARKS).strip(), text, False


def _when(match: re.Match, order: str) -> datetime.datetime:
    a, b, year = int(match["a"]), int(match["b"]), int(match["y"])
    day, month = (a, b) if order == DMY else (b, a)
    if year < 100:
        year += 2000
    hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"] or 0)
    meridiem = (match["ampm"] or "").replace(".", "").replace(" ", "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError(f"{hour} is not an hour on a 12-hour clock")
        pm = meridiem in ("pm", "अपराह्न")
        hour = hour % 12 + (12 if pm else 0)
    return datetime.datetime(year, month, day, hour, minute, second)


def _content(message: ChatMessage, first_line: str) -> None:
    """Read the markers on a message's first line (media, deleted, edited)."""
    text = first_line.translate(_MARKS).strip()
    for marker in EDITED:
        if text.endswith(marker):
            message.edited = True
            text = text[: -len(marker)].rstrip()
    if text in DELETED:
        message.deleted, text = True, ""
    elif text in MEDIA_OMITTED or IOS_OMITTED.match(text):
        message.media_omitted, text = True, ""
    elif match := ATTACHED_IOS.match(text) or ATTACHED_ANDROID.match(text):
        message.media, text = match["file"].strip(), ""
    message.text = text


def parse(lines: Iterable[str], *, date_order: str) -> Iterator[ChatMessage | SystemLine | Malformed]:
    """Records in file order. A header whose date or time does not exist is Malformed (the lines
    after it are skipped with it); so is text before the first header."""
    if date_order not in (DMY, MDY):
        raise ValueError("date_order must be DMY or MDY")
    pending: ChatMessage | None = None
    skipping = False
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        match = _header(line.translate(_MARKS))
        if match is None:
            if pending is not None:
                pending.text = f"{pending.text}\n{line}" if pending.text else line
                _strip_trailing_edit(pending)
            elif not skipping and line.strip():
                yield Malformed(number, line, "Not a message line and not part of one")
            continue
        if pending is not None:
            yield pending
            pending = None
        try:
            at = _when(match, date_order)
        except ValueError as exc:
            skipping = True
            yield Malformed(number, line, f"Bad date or time: {exc}")
            continue
        skipping = False
        # Read the raw rest (with marks) so iOS system lines can be told from messages.
        raw_match = _header(line)
        sender, text, is_system = _split_sender(raw_match["rest"] if raw_match else match["rest"])
        if is_system:
            yield SystemLine(number, at, text.strip())
            continue
        pending = ChatMessage(line=number, at=at, sender=sender)
        _content(pending, text)
    if pending is not None:
        yield pending


def _strip_trailing_edit(message: ChatMessage) -> None:
    """On Android the edited marker closes the message's last line, even a continuation line."""
    for marker in EDITED:
        if message.text.endswith(marker):
            message.edited = True
            message.text = message.text[: -len(marker)].rstrip()


def render(messages: Iterable[ChatMessage], *, style: str = "android", date_order: str = DMY, clock: int = 24) -> Iterator[str]:
    """The lines an export of these messages would hold (used by tests and the benchmark)."""
    for message in messages:
        at = message.at
        a, b = (at.day, at.month) if date_order == DMY else (at.month, at.day)
        if clock == 24:
            time = f"{at.hour:02d}:{at.minute:02d}"
            meridiem = ""
        else:
            time = f"{(at.hour % 12) or 12}:{at.minute:02d}"
            meridiem = "\u202fPM" if at.hour >= 12 else "\u202fAM"
        if message.deleted:
            text = "This message was deleted"
        elif message.media:
            text = f"\u200e<attached: {message.media}>" if style == "ios" else f"{message.media} (file attached)"
        elif message.media_omitted:
            text = "<Media omitted>"
        else:
            text = message.text
        if message.edited:
            text += " <This message was edited>"
        if style == "ios":
            entry = f"[{a:02d}/{b:02d}/{at.year % 100:02d}, {time}:{at.second:02d}{meridiem}] {message.sender}: {text}"
        else:
            entry = f"{a:02d}/{b:02d}/{at.year}, {time}{meridiem} - {message.sender}: {text}"
        for line in entry.split("\n"):
            yield line + "\n"
