"""Spoken replies: `message.audio` with a transcript and a playable file, from pure Python.

The "speech" is a sequence of short tones, one per transcript token, pitched by the voice and the
token, so the same reply always has the same bytes and its length follows the transcript. Formats:
`wav` (RIFF, 16-bit mono 24 kHz), `pcm16` (the same samples raw, little-endian, as the real API sends
them), `flac` (a real FLAC stream with verbatim subframes: lossless, uncompressed, decodable by any FLAC
decoder), `mp3` (MPEG-1 Layer III frames of silence of the same duration: valid frames, no encoder),
`opus` (an Ogg Opus file of silent 20 ms packets of the same duration). For `aac` no pure-Python
encoder exists; the data is the WAV file, which is documented.
"""

from __future__ import annotations

import base64
import io
import math
import struct
import wave
import zlib
from collections.abc import Sequence
from typing import Any

SAMPLE_RATE = 24_000
TOKEN_SECONDS = 0.06
AUDIO_TOKENS_PER_SECOND = 10
EXPIRY_SECONDS = 3600
_AMPLITUDE = 6000
_VOICE_PITCH = {"alloy": 220.0, "ash": 196.0, "ballad": 174.6, "coral": 261.6, "echo": 146.8, "fable": 233.1,
                "onyx": 130.8, "nova": 293.7, "sage": 246.9, "shimmer": 329.6, "verse": 185.0, "marin": 207.7,
                "cedar": 164.8}
_DEFAULT_PITCH = 220.0
_FLAC_BLOCK = 4096
_MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0xC0]) + bytes(413)  # 128 kbit/s, 44.1 kHz, mono, all-zero side info
_MP3_FRAME_SECONDS = 1152 / 44_100
_OPUS_SILENCE = bytes([0xF8, 0xFF, 0xFE])  # CELT fullband 20 ms, mono: the packet DTX sends for silence
_OPUS_PACKET_SECONDS = 0.02
_OPUS_SAMPLES_PER_PACKET = 960  # granule positions count 48 kHz samples whatever the input rate
_OPUS_PRE_SKIP = 312
_OGG_SERIAL = 0x43484442
_OGG_PACKETS_PER_PAGE = 50


def _samples(tokens: Sequence[str], voice: str) -> list[int]:
    base = _VOICE_PITCH.get(voice, _DEFAULT_PITCH)
    per_token = int(SAMPLE_RATE * TOKEN_SECONDS)
    fade = per_token // 8
    samples: list[int] = []
    for token in tokens:
        pitch = base * 2 ** ((zlib.crc32(token.encode()) % 12) / 12) if token.strip() else 0.0
        step = 2 * math.pi * pitch / SAMPLE_RATE
        for n in range(per_token):
            envelope = min(1.0, n / fade, (per_token - n) / fade)
            samples.append(int(_AMPLITUDE * envelope * math.sin(step * n)))
    return samples


def _pcm16(samples: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def _wav(samples: Sequence[int]) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(_pcm16(samples))
    return out.getvalue()


def _crc(data: bytes, width: int, poly: int) -> int:
    """The MSB-first, zero-start CRC that FLAC (8 and 16 bits) and Ogg (32 bits) put in their frames."""
    top, mask, crc = 1 << (width - 1), (1 << width) - 1, 0
    for byte in data:
        crc ^= byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & mask if crc & top else (crc << 1) & mask
    return crc


def _utf8_number(value: int) -> bytes:
    """FLAC's frame numbers use the UTF-8 length-prefix scheme (extended to 36 bits)."""
    if value < 0x80:
        return bytes([value])
    length = 2
    while value >= 1 << (5 * length + 1):
        length += 1
    head = (0xFF00 >> length) & 0xFF
    tail = [0x80 | ((value >> (6 * i)) & 0x3F) for i in range(length - 1)]
    return bytes([head | (value >> (6 * (length - 1)))] + tail[::-1])


def _flac(samples: Sequence[int]) -> bytes:
    total = len(samples)
    streaminfo = struct.pack(">HH", _FLAC_BLOCK, _FLAC_BLOCK) + bytes(6)
    packed = (SAMPLE_RATE << 44) | (0 << 41) | (15 << 36) | total
    streaminfo += packed.to_bytes(8, "big") + bytes(16)
    out = bytearray(b"fLaC" + bytes([0x80]) + len(streaminfo).to_bytes(3, "big") + streaminfo)
    for number, start in enumerate(range(0, total, _FLAC_BLOCK)):
        block = samples[start:start + _FLAC_BLOCK]
        # Block size code 0111 (16-bit size follows), rate code 1100 (kHz in 8 bits), mono, 16-bit.
        header = bytes([0xFF, 0xF8, 0x7C, 0x08]) + _utf8_number(number)
        header += struct.pack(">HB", len(block) - 1, SAMPLE_RATE // 1000)
        header += bytes([_crc(header, 8, 0x07)])
        frame = header + bytes([0x02]) + struct.pack(f">{len(block)}h", *block)
        out += frame + _crc(frame, 16, 0x8005).to_bytes(2, "big")
    return bytes(out)


def _ogg_page(packets: Sequence[bytes], granule: int, sequence: int, flags: int) -> bytes:
    """One Ogg page; every packet here is shorter than 255 bytes, so each is one lacing value."""
    lacing = bytes(len(packet) for packet in packets)
    page = (b"OggS" + bytes([0, flags]) + struct.pack("<qIIIB", granule, _OGG_SERIAL, sequence, 0, len(packets))
            + lacing + b"".join(packets))
    return page[:22] + struct.pack("<I", _crc(page, 32, 0x04C11DB7)) + page[26:]


def _opus(seconds: float) -> bytes:
    packets = max(1, math.ceil(seconds / _OPUS_PACKET_SECONDS))
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, _OPUS_PRE_SKIP, SAMPLE_RATE, 0, 0)
    vendor = b"chatdouble"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    out = bytearray(_ogg_page([head], 0, 0, 0x02) + _ogg_page([tags], 0, 1, 0))
    for sequence, start in enumerate(range(0, packets, _OGG_PACKETS_PER_PAGE), start=2):
        count = min(_OGG_PACKETS_PER_PAGE, packets - start)
        granule = _OPUS_PRE_SKIP + _OPUS_SAMPLES_PER_PACKET * (start + count)
        out += _ogg_page([_OPUS_SILENCE] * count, granule, sequence, 0x04 if start + count >= packets else 0)
    return bytes(out)


def _mp3(seconds: float) -> bytes:
    return _MP3_FRAME * max(1, math.ceil(seconds / _MP3_FRAME_SECONDS))


def encode(tokens: Sequence[str], voice: str, fmt: str) -> bytes:
    samples = _samples(tokens, voice)
    if fmt == "pcm16":
        return _pcm16(samples)
    if fmt == "flac":
        return _flac(samples)
    if fmt == "mp3":
        return _mp3(len(samples) / SAMPLE_RATE)
    if fmt == "opus":
        return _opus(len(samples) / SAMPLE_RATE)
    return _wav(samples)


def audio_tokens(transcript_tokens: int) -> int:
    """What the spoken reply costs, at the real API's rate of about ten tokens per second of speech."""
    return math.ceil(transcript_tokens * TOKEN_SECONDS * AUDIO_TOKENS_PER_SECOND)


def audio_message(audio_id: str, tokens: Sequence[str], voice: str, fmt: str, created: int) -> dict[str, Any]:
    return {
        "id": audio_id,
        "data": base64.b64encode(encode(tokens, voice, fmt)).decode("ascii"),
        "expires_at": created + EXPIRY_SECONDS,
        "transcript": "".join(tokens),
    }
