"""Kiosk protocol v1: parse and validate client messages, build server messages.

Every client frame goes through ``parse``; anything it does not accept raises ProtocolError
with one of the documented codes, which the server sends back as ``error {code, message}``.
The messages are msgspec Structs, one per ``type``: their field types and constraints are the
validation, written once.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, get_args

import msgspec

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
SampleRate = Literal[8000, 16000, 22050, 24000, 32000, 44100, 48000]
SAMPLE_RATES: tuple[int, ...] = get_args(SampleRate)
# Longest disconnection a kiosk may report in hello {offline_ms}: 30 days.
MAX_OFFLINE_MS = 30 * 86_400_000
MAX_TOKEN_CHARS = 256
MAX_PING_ID_CHARS = 64


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _whole(pattern: re.Pattern[str]) -> msgspec.Meta:
    # msgspec searches; \A and \Z make it a full match (a "$" would let a final "\n" through).
    return msgspec.Meta(pattern=rf"\A(?:{pattern.pattern})\Z")


KioskId = Annotated[str, _whole(KIOSK_ID)]
Token = Annotated[str, msgspec.Meta(max_length=MAX_TOKEN_CHARS)]
SessionId = Annotated[str, _whole(SESSION_ID)]
ResumeToken = Annotated[str, msgspec.Meta(max_length=MAX_TOKEN_CHARS)]
Lang = Annotated[str, _whole(LANG)]
OfflineMs = (
    Annotated[int, msgspec.Meta(ge=0, le=MAX_OFFLINE_MS)]
    | Annotated[float, msgspec.Meta(ge=0, le=MAX_OFFLINE_MS)]
)
PingId = Annotated[str, msgspec.Meta(max_length=MAX_PING_ID_CHARS)] | int
# What is on the other end: a kiosk screen (the kiosk page, a customer's), or a terminal
# (`laundrybot talk`, the owner's): only screens are watched by the "kiosk gone" alert.
Client = Literal["screen", "terminal"]
CLIENTS: tuple[str, ...] = get_args(Client)

# What a kiosk is told a field must be, by field name (one meaning per name across types).
_EXPECTED = {
    "kiosk": "1-64 letters, digits, '.', '_' or '-'",
    "token": f"a string of at most {MAX_TOKEN_CHARS} characters",
    "resume": "the session id a welcome gave (32 hexadecimal digits)",
    "resume_token": f"the resume_token a welcome gave (at most {MAX_TOKEN_CHARS} characters)",
    "lang": "a language tag such as 'en' or 'ko-KR'",
    "offline_ms": f"the milliseconds the kiosk was disconnected (0 to {MAX_OFFLINE_MS})",
    "text": "a string",
    "rate": f"one of {SAMPLE_RATES}",
    "id": f"a number or a string of at most {MAX_PING_ID_CHARS} characters",
    "client": "'screen' (a kiosk screen) or 'terminal' (laundrybot talk)",
    "audio": "true or false (false: replies as text only, never spoken)",
}


# Unknown fields in a known message are ignored (msgspec's default; deliberately no
# forbid_unknown_fields), so newer kiosks that send more can still talk to older servers.
class _Message(msgspec.Struct, tag_field="type"):
    pass


class Hello(_Message, tag="hello"):
    kiosk: KioskId
    token: Token | None = None
    resume: SessionId | None = None
    # The secret the last welcome gave with the session; both are needed to resume.
    resume_token: ResumeToken | None = None
    lang: Lang | None = None
    # A reconnecting kiosk says how long it was disconnected, in milliseconds.
    offline_ms: OfflineMs | None = None
    client: Client = "screen"
    # False: send no spoken replies (the gateway does not synthesise them), text only.
    audio: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.offline_ms, float):
            self.offline_ms = int(self.offline_ms)


class Text(_Message, tag="text"):
    text: str

    def __post_init__(self) -> None:
        self.text = " ".join(self.text.split())
        if not self.text:
            raise ValueError("'text' is empty")


class AudioStart(_Message, tag="audio-start"):
    rate: SampleRate = 16000


class AudioStop(_Message, tag="audio-stop"):
    pass


class Interrupt(_Message, tag="interrupt"):
    pass


class Ping(_Message, tag="ping"):
    id: PingId | None = None


ClientMessage = Hello | Text | AudioStart | AudioStop | Interrupt | Ping
TYPES = {cls.__struct_config__.tag: cls for cls in get_args(ClientMessage)}
_DECODER = msgspec.json.Decoder(ClientMessage)


class _Envelope(msgspec.Struct):
    """Just the ``type``: read only to explain why a frame was refused."""

    type: Any = None


def parse(frame: str, max_text_chars: int) -> ClientMessage:
    """Turn one text frame into a message, or raise ProtocolError saying what is wrong."""
    try:
        message = _DECODER.decode(frame)
    except msgspec.ValidationError as exc:
        raise _invalid(frame, exc) from None
    except RecursionError:
        raise ProtocolError(BAD_JSON, "the message is not valid JSON (nested too deeply)") from None
    except (msgspec.DecodeError, UnicodeEncodeError):
        raise _undecodable(frame) from None
    if isinstance(message, Text) and len(message.text) > max_text_chars:
        raise ProtocolError(TOO_LARGE, f"'text' is longer than {max_text_chars} characters")
    return message


MAX_BRACKETS = 64


def _undecodable(frame: str) -> ProtocolError:
    # msgspec refuses a lone UTF-16 surrogate escape ("\ud800") anywhere in the frame, saying
    # "Input data was truncated" or "invalid utf-16 surrogate pair". Such text could never be
    # stored or sent on, but it is valid JSON: tell the kiosk so rather than "not JSON".
    # The same goes for NaN and numbers out of range. The stdlib parser recurses, so a frame
    # with many brackets (no kiosk message has more than a few) is not parsed again.
    if frame.count("[") + frame.count("{") > MAX_BRACKETS:
        return ProtocolError(BAD_JSON, "the message is not valid JSON")
    try:
        json.loads(frame)
    except (ValueError, RecursionError):
        return ProtocolError(BAD_JSON, "the message is not valid JSON")
    if "\\ud" in frame.lower():
        return ProtocolError(BAD_MESSAGE, "the message holds an unpaired UTF-16 surrogate escape")
    return ProtocolError(BAD_MESSAGE, "the message holds NaN or a number out of range")


_AT_FIELD = re.compile(r" - at `\$\.(\w+)")
_MISSING = re.compile(r"missing required field `(\w+)`")


def _invalid(frame: str, exc: msgspec.ValidationError) -> ProtocolError:
    try:
        kind = msgspec.json.decode(frame, type=_Envelope).type
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        kind = None
    if kind is None:
        return ProtocolError(BAD_MESSAGE, "a message must be a JSON object with a 'type'")
    if not isinstance(kind, str):
        return ProtocolError(BAD_MESSAGE, "'type' must be a string")
    if kind not in TYPES:
        known = ", ".join(TYPES)
        return ProtocolError(UNKNOWN_TYPE, f"unknown message type {kind[:40]!r}; known: {known}")
    detail = str(exc)
    missing = _MISSING.search(detail)
    if missing:
        field = missing.group(1)
        return ProtocolError(BAD_MESSAGE, f"{kind} needs '{field}': {_EXPECTED[field]}")
    wrong = _AT_FIELD.search(detail)
    if wrong and wrong.group(1) in _EXPECTED:
        field = wrong.group(1)
        return ProtocolError(BAD_MESSAGE, f"{kind}: '{field}' must be {_EXPECTED[field]}")
    return ProtocolError(BAD_MESSAGE, f"{kind}: {detail}")  # e.g. "'text' is empty"


# -- server -> client ----------------------------------------------------------------------


def encode(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False, separators=(",", ":"))


def error(code: str, message: str) -> str:
    return encode("error", code=code, message=message)
