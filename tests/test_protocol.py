"""Client messages decoded by msgspec: the documented codes, and messages naming the field."""

from __future__ import annotations

import pytest

from laundrybot.gateway.protocol import (
    BAD_JSON,
    BAD_MESSAGE,
    TOO_LARGE,
    UNKNOWN_TYPE,
    AudioStart,
    Hello,
    Ping,
    ProtocolError,
    Text,
    parse,
)


@pytest.mark.parametrize(
    ("frame", "code", "said"),
    [
        ('{"type": "te', BAD_JSON, "not valid JSON"),
        ('{"type": "text", "text": "x"} more', BAD_JSON, "not valid JSON"),
        ('{"type": "hello", "kiosk": "k", "x": ' + "[" * 3000 + "]" * 3000 + "}", BAD_JSON, "JSON"),
        ("[1, 2]", BAD_MESSAGE, "JSON object with a 'type'"),
        ('{"type": 5}', BAD_MESSAGE, "'type' must be a string"),
        ('{"type": "dance"}', UNKNOWN_TYPE, "known: hello, text, audio-start"),
        ('{"type": "hello"}', BAD_MESSAGE, "hello needs 'kiosk'"),
        ('{"type": "hello", "kiosk": "a b"}', BAD_MESSAGE, "'kiosk' must be 1-64 letters"),
        ('{"type": "hello", "kiosk": "k\\n"}', BAD_MESSAGE, "'kiosk'"),
        ('{"type": "hello", "kiosk": "k", "token": 5}', BAD_MESSAGE, "'token' must be a string"),
        ('{"type": "hello", "kiosk": "k", "lang": "english"}', BAD_MESSAGE, "'lang'"),
        ('{"type": "hello", "kiosk": "k", "resume": "abc"}', BAD_MESSAGE, "'resume'"),
        ('{"type": "hello", "kiosk": "k", "offline_ms": -1}', BAD_MESSAGE, "'offline_ms'"),
        ('{"type": "hello", "kiosk": "k", "offline_ms": true}', BAD_MESSAGE, "'offline_ms'"),
        ('{"type": "text", "text": 5}', BAD_MESSAGE, "'text' must be a string"),
        ('{"type": "text", "text": " \\n "}', BAD_MESSAGE, "'text' is empty"),
        ('{"type": "text", "text": "' + "x" * 501 + '"}', TOO_LARGE, "longer than 500"),
        ('{"type": "audio-start", "rate": 12345}', BAD_MESSAGE, "'rate' must be one of"),
        ('{"type": "ping", "id": true}', BAD_MESSAGE, "'id' must be a number or a string"),
        ('{"type": "ping", "id": "' + "x" * 65 + '"}', BAD_MESSAGE, "'id'"),
        ('{"type": "ping", "id": "\\ud800"}', BAD_MESSAGE, "unpaired UTF-16 surrogate"),
        ('{"type": "interrupt", "later": "\\udc00"}', BAD_MESSAGE, "unpaired UTF-16 surrogate"),
    ],
)
def test_refused_frames_get_their_code_and_say_why(frame: str, code: str, said: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse(frame, 500)
    assert caught.value.code == code
    assert said in caught.value.message, caught.value.message


def test_accepted_frames_are_typed_and_unknown_fields_ignored() -> None:
    hello = parse(
        '{"type": "hello", "kiosk": "k-1", "lang": "ko-KR", "offline_ms": 1500.9, "v2": {}}', 500
    )
    assert hello == Hello(kiosk="k-1", lang="ko-KR", offline_ms=1500)
    assert isinstance(hello, Hello) and isinstance(hello.offline_ms, int)
    text = parse('{"type": "text", "text": "  is  washer\\n4 free "}', 500)
    assert text == Text("is washer 4 free")
    assert parse('{"type": "audio-start"}', 500) == AudioStart(16000)
    assert parse('{"rate": 8000, "type": "audio-start"}', 500) == AudioStart(8000)
    assert parse('{"type": "ping", "id": 7}', 500) == Ping(7)
    assert parse('{"type": "ping"}', 500) == Ping(None)
