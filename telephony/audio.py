"""G.711 μ-law at 8 kHz, the audio of Smartflo's voice streams, to and from WAV.

Written here rather than with `audioop` (deprecated in 3.11, gone in 3.13). Encoding goes through a
table of all 65,536 16-bit samples, built once, so a prompt of a minute converts in a fraction of a
second; decoding through a table of the 256 codes.
"""

import array
import io
import sys
import wave

RATE = 8000
FRAME_BYTES = 160  # 20 ms of μ-law at 8 kHz: one `media` frame
FRAME_SECONDS = 0.02
BIAS = 0x84
SEGMENT_ENDS = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)


class NotAudio(ValueError):
    """The upload is not a WAV file Sampark can convert (PCM, 8 or 16 bits)."""


def _encode_sample(sample: int) -> int:
    """The G.711 reference encoder (14-bit magnitude, segments by their upper end)."""
    value = sample >> 2
    mask = 0x7F if value < 0 else 0xFF
    value = min(-value if value < 0 else value, 8159) + 0x21
    segment = next((index for index, end in enumerate(SEGMENT_ENDS) if value <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def _decode_code(code: int) -> int:
    code = ~code & 0xFF
    magnitude = (((code & 0x0F) << 3) + BIAS) << ((code & 0x70) >> 4)
    return BIAS - magnitude if code & 0x80 else magnitude - BIAS


_ENCODE = bytes(_encode_sample(value - 65536 if value >= 32768 else value) for value in range(65536))  # index: sample & 0xFFFF
_DECODE = array.array("h", (_decode_code(code) for code in range(256)))
# The low and high bytes of each code's sample: decoding is two bytes.translate and an interleave, in C
# (a stream's recording is decoded when it ends: 50 codes a second per call, on the stream server).
_DECODE_LOW = bytes(sample & 0xFF for sample in _DECODE)
_DECODE_HIGH = bytes((sample >> 8) & 0xFF for sample in _DECODE)
SILENCE = bytes([_encode_sample(0)]) * FRAME_BYTES


def encode(samples: array.array) -> bytes:
    """16-bit linear samples → μ-law bytes."""
    table = _ENCODE
    return bytes(table[sample & 0xFFFF] for sample in samples)


def decode(ulaw: bytes) -> array.array:
    """μ-law bytes → 16-bit linear samples."""
    little = bytearray(2 * len(ulaw))
    little[0::2], little[1::2] = ulaw.translate(_DECODE_LOW), ulaw.translate(_DECODE_HIGH)
    samples = array.array("h", little)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def to_ulaw(data: bytes, *, max_seconds: float) -> bytes:
    """A WAV file (PCM, 8 or 16 bits, mono or stereo, any rate) → μ-law 8 kHz mono, at most `max_seconds` long."""
    try:
        with wave.open(io.BytesIO(data), "rb") as source:
            channels, width, rate = source.getnchannels(), source.getsampwidth(), source.getframerate()
            frames = source.readframes(min(source.getnframes(), int(rate * max_seconds) + 1))
    except (wave.Error, EOFError) as exc:
        raise NotAudio(f"Not a WAV file Sampark can read ({exc}). Upload a WAV (PCM 16-bit).") from None
    if width not in (1, 2) or not 1 <= channels <= 2 or not 4000 <= rate <= 96000:
        raise NotAudio("Upload a WAV of PCM 8- or 16-bit samples, mono or stereo.")
    if width == 1:  # unsigned 8-bit
        samples = array.array("h", ((value - 128) << 8 for value in frames))
    else:
        samples = array.array("h")
        samples.frombytes(frames[: len(frames) // 2 * 2])
        if sys.byteorder == "big":
            samples.byteswap()
    if channels == 2:
        samples = array.array("h", ((samples[i] + samples[i + 1]) // 2 for i in range(0, len(samples) - 1, 2)))
    if rate != RATE:
        samples = _resample(samples, rate)
    if not samples:
        raise NotAudio("The WAV file has no audio.")
    return encode(samples[: int(RATE * max_seconds)])


def _resample(samples: array.array, rate: int) -> array.array:
    """Linear interpolation to 8 kHz (after averaging each output sample's span when going down, so
    the highs of a 44.1 kHz file do not fold back as noise)."""
    step = rate / RATE
    count = int(len(samples) / step)
    out = array.array("h", bytes(2 * count))
    span = max(1, int(step))
    for index in range(count):
        start = int(index * step)
        window = samples[start : start + span]
        out[index] = sum(window) // len(window)
    return out


def to_wav(ulaw: bytes) -> bytes:
    """μ-law 8 kHz mono → a 16-bit PCM WAV file (what the call's recording player plays)."""
    samples = decode(ulaw)
    if sys.byteorder == "big":
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(RATE)
        target.writeframes(samples.tobytes())
    return out.getvalue()


def frames(ulaw: bytes) -> list[bytes]:
    """The 20 ms frames of a μ-law buffer, the last one padded with silence."""
    chunks = [ulaw[i : i + FRAME_BYTES] for i in range(0, len(ulaw), FRAME_BYTES)]
    if chunks and len(chunks[-1]) < FRAME_BYTES:
        chunks[-1] = chunks[-1] + SILENCE[len(chunks[-1]) :]
    return chunks


def tone(seconds: float, frequencies=(440.0,), volume: int = 6000) -> bytes:
    """μ-law of tones one after another (the default prompt when a campaign has no recording of its own)."""
    import math

    per = int(RATE * seconds / len(frequencies))
    samples = array.array("h", (int(volume * math.sin(2 * math.pi * f * n / RATE)) for f in frequencies for n in range(per)))
    return encode(samples)
