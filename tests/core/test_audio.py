"""Audio output is a playable file of the requested format; audio and image input is counted."""

from __future__ import annotations

import base64
import io
import json
import re
import wave

import mutagen.mp3
import pytest
import soundfile
from wire import api_post, ok

from mockserver.core.generate.tokenizer import tokenize

USER = [{"role": "user", "content": "Say something."}]


def spoken(base_url: str, fmt: str, **extra: object) -> dict:
    body = {"model": "gpt-4o-audio-preview", "messages": USER, "modalities": ["text", "audio"],
            "audio": {"voice": "alloy", "format": fmt}, **extra}
    return ok(base_url, body)


def test_wav_reply_is_a_wav_file_whose_length_follows_the_transcript(base_url: str) -> None:
    reply = spoken(base_url, "wav")
    message = reply["choices"][0]["message"]
    audio = message["audio"]
    assert message["content"] is None and audio["transcript"]
    assert re.match(r"^audio_[0-9a-f]{32}$", audio["id"]) and audio["expires_at"] == reply["created"] + 3600
    with wave.open(io.BytesIO(base64.b64decode(audio["data"]))) as reader:
        assert (reader.getnchannels(), reader.getsampwidth(), reader.getframerate()) == (1, 2, 24000)
        frames = reader.getnframes()
    assert frames > 0
    usage = reply["usage"]
    assert usage["completion_tokens_details"]["audio_tokens"] > 0
    assert usage["completion_tokens"] > usage["completion_tokens_details"]["audio_tokens"]


SAMPLES_PER_TOKEN = 1440  # 60 ms at 24 kHz


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_files_decode_with_libsndfile(base_url: str, fmt: str) -> None:
    audio = spoken(base_url, fmt)["choices"][0]["message"]["audio"]
    samples, rate = soundfile.read(io.BytesIO(base64.b64decode(audio["data"])), dtype="int16")
    assert rate == 24000 and samples.any()
    assert len(samples) == SAMPLES_PER_TOKEN * len(tokenize(audio["transcript"]))


def test_pcm16_is_raw_samples(base_url: str) -> None:
    audio = spoken(base_url, "pcm16")["choices"][0]["message"]["audio"]
    assert len(base64.b64decode(audio["data"])) == 2 * SAMPLES_PER_TOKEN * len(tokenize(audio["transcript"]))


def test_mp3_reply_is_a_stream_of_valid_frames(base_url: str) -> None:
    audio = spoken(base_url, "mp3")["choices"][0]["message"]["audio"]
    info = mutagen.mp3.MP3(io.BytesIO(base64.b64decode(audio["data"]))).info
    assert info.sample_rate == 44100 and info.length > 0


def test_opus_reply_is_an_ogg_opus_file_of_the_transcript_length(base_url: str) -> None:
    audio = spoken(base_url, "opus")["choices"][0]["message"]["audio"]
    data = io.BytesIO(base64.b64decode(audio["data"]))
    info = soundfile.info(data)
    assert (info.format, info.subtype, info.samplerate) == ("OGG", "OPUS", 24000)
    expected = 0.06 * len(tokenize(audio["transcript"]))
    assert abs(info.duration - expected) < 0.05


def test_audio_is_deterministic_and_cut_by_max_tokens(base_url: str) -> None:
    assert spoken(base_url, "wav")["choices"] == spoken(base_url, "wav")["choices"]
    short = spoken(base_url, "pcm16", max_tokens=3)
    assert short["choices"][0]["finish_reason"] == "length"
    assert short["usage"]["completion_tokens_details"]["audio_tokens"] > 0


def test_audio_needs_the_audio_parameter(base_url: str) -> None:
    status, reply = api_post(base_url, {"model": "gpt-4o-audio-preview", "messages": USER, "modalities": ["text", "audio"]})
    assert status == 400 and reply["error"]["param"] == "audio"


def test_image_and_audio_input_parts_are_counted(base_url: str) -> None:
    plain = ok(base_url, {"model": "gpt-4o", "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]})
    clip = base64.b64encode(bytes(8000)).decode()
    rich = ok(base_url, {"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Hi"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
        {"type": "input_audio", "input_audio": {"data": clip, "format": "wav"}}]}]})
    audio_in = rich["usage"]["prompt_tokens_details"]["audio_tokens"]
    assert audio_in > 0 and plain["usage"]["prompt_tokens_details"]["audio_tokens"] == 0
    assert rich["usage"]["prompt_tokens"] == plain["usage"]["prompt_tokens"] + 85 + audio_in
    assert json.dumps(rich["choices"])
