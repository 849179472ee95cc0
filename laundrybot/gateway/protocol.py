"""Kiosk protocol v1: parse and validate client messages, build server messages.

Every client frame goes through ``parse``; anything it does not accept raises ProtocolError
with one of the documented codes, which the server sends back as ``error {code, message}``.
Unknown fields in a known message are ignored, so newer kiosks can talk to older servers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from laundrybot.wiretext import is_storable

PROTOCOL_VERSION = 1

# Error codes a kiosk may receive.
BAD_JSON = "bad-json"
BAD_MESSAGE = "bad-message"
UNKNOWN_TYPE = "unknown-type"
TOO_LARGE = "too-large"
RATE_LIMITED = "rate-limited"
UNAUTHORIZED = "unauthorized"
NOT_READY = "not-ready"
TIMEOUT = "timeout"
INTERNAL = "internal"
ERROR_CODES = (
    BAD_JSON,
    BAD_MESSAGE,
    UNKNOWN_TYPE,
    TOO_LARGE,
    RATE_LIMITED,
    UNAUTHORIZED,
    NOT_READY,
    TIMEOUT,
    INTERNAL,
)

KIOSK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
LANG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
SESSION_ID = re.compile(r"[0-9a-f]{32}")
SAMPLE_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
# Longest disconnection a kiosk may report in hello {offline_ms}: 30 days.
MAX_OFFLINE_MS = 30 * 86_400_000


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Hello:
    kiosk: str
    token: str | None
    resume: str | None
    lang: str | None
    # A reconnecting kiosk says how long it was disconnected, in milliseconds.
    offline_ms: int | None = None


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class AudioStart:
    rate: int


@dataclass(frozen=True)
class AudioStop:
    pass


@dataclass(frozen=True)
class Interrupt:
    pass


@dataclass(frozen=True)
class Ping:
    id: str | int | None


ClientMessage = Hello | Text | AudioStart | AudioStop | Interrupt | Ping


def parse(frame: str, max_text_chars: int) -> ClientMessage:
    """Turn one text frame into a message, or raise ProtocolError saying what is wrong."""
    try:
        data = json.loads(frame)
    except (json.JSONDecodeError, RecursionError):
        raise ProtocolError(BAD_JSON, "the message is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError(BAD_MESSAGE, "a message must be a JSON object with a 'type'")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(BAD_MESSAGE, "'type' must be a string")
    parser = _PARSERS.get(kind)
    if parser is None:
        known = ", ".join(_PARSERS)
        raise ProtocolError(UNKNOWN_TYPE, f"unknown message type {kind[:40]!r}; known: {known}")
    return parser(data, max_text_chars)


def _optional_str(data: dict[str, Any], key: str, pattern: re.Pattern[str] | None) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
        raise ProtocolError(BAD_MESSAGE, f"'{key}' is not valid")
    return value


def _hello(data: dict[str, Any], _: int) -> Hello:
    kiosk = data.get("kiosk")
    if not isinstance(kiosk, str) or not KIOSK_ID.fullmatch(kiosk):
        raise ProtocolError(
            BAD_MESSAGE, "hello needs 'kiosk': 1-64 letters, digits, '.', '_' or '-'"
        )
    token = data.get("token")
    if token is not None and (
        not isinstance(token, str) or len(token) > 256 or not is_storable(token)
    ):
        raise ProtocolError(BAD_MESSAGE, "'token' must be a string of at most 256 characters")
    offline_ms = data.get("offline_ms")
    if offline_ms is not None and (
        isinstance(offline_ms, bool)
        or not isinstance(offline_ms, (int, float))
        or not 0 <= offline_ms <= MAX_OFFLINE_MS
    ):
        raise ProtocolError(
            BAD_MESSAGE, "'offline_ms' must be the milliseconds the kiosk was disconnected"
        )
    return Hello(
        kiosk=kiosk,
        token=token,
        resume=_optional_str(data, "resume", SESSION_ID),
        lang=_optional_str(data, "lang", LANG),
        offline_ms=None if offline_ms is None else int(offline_ms),
    )


def _text(data: dict[str, Any], max_text_chars: int) -> Text:
    text = data.get("text")
    if not isinstance(text, str):
        raise ProtocolError(BAD_MESSAGE, "text needs 'text': a string")
    if not is_storable(text):
        raise ProtocolError(BAD_MESSAGE, "'text' holds an unpaired UTF-16 surrogate")
    text = " ".join(text.split())
    if not text:
        raise ProtocolError(BAD_MESSAGE, "'text' is empty")
    if len(text) > max_text_chars:
        raise ProtocolError(TOO_LARGE, f"'text' is longer than {max_text_chars} characters")
    return Text(text)


def _audio_start(data: dict[str, Any], _: int) -> AudioStart:
    rate = data.get("rate", 16000)
    if isinstance(rate, bool) or rate not in SAMPLE_RATES:
        raise ProtocolError(BAD_MESSAGE, f"'rate' must be one of {SAMPLE_RATES}")
    return AudioStart(int(rate))


def _ping(data: dict[str, Any], _: int) -> Ping:
    ping_id = data.get("id")
    if ping_id is not None and (
        isinstance(ping_id, bool)
        or not isinstance(ping_id, (str, int))
        or (isinstance(ping_id, str) and (len(ping_id) > 64 or not is_storable(ping_id)))
    ):
        raise ProtocolError(BAD_MESSAGE, "'id' must be a number or a short string")
    return Ping(ping_id)


_PARSERS = {
    "hello": _hello,
    "text": _text,
    "audio-start": _audio_start,
    "audio-stop": lambda data, _: AudioStop(),
    "interrupt": lambda data, _: Interrupt(),
    "ping": _ping,
}


# -- server -> client ----------------------------------------------------------------------


def encode(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False, separators=(",", ":"))


def error(code: str, message: str) -> str:
    return encode("error", code=code, message=message)
