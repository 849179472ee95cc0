"""An asyncio client of the TTS unit, for the gateway.

    client = TtsClient(config.tts_socket_path)
    async with client.synthesize("Machine #4 is free.", voice="en") as speech:
        async for item in speech:
            if isinstance(item, AudioFormat):
                ...  # first item: rate, width, channels
            else:
                ...  # bytes: s16le PCM, in order, sentence by sentence

Each ``synthesize`` is one WebSocket connection. Leaving the ``async with`` block early,
``aclose()``, or cancelling the task that iterates closes the connection, and the server stops
synthesising after the sentence in progress: that is barge-in. Failures raise ``TtsError``
(``TtsUnavailable`` when the unit cannot be reached, ``TtsTimeout`` when it stops answering).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect, unix_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI


class TtsError(Exception):
    """The TTS unit answered with an error, or could not answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TtsUnavailable(TtsError):
    def __init__(self, message: str) -> None:
        super().__init__("unavailable", message)


class TtsTimeout(TtsError):
    def __init__(self, message: str) -> None:
        super().__init__("timeout", message)


@dataclass(frozen=True)
class AudioFormat:
    """What ``audio-start`` announced: the PCM that follows is s16le at ``rate``."""

    rate: int
    width: int
    channels: int
    voice: str
    cached: bool


class TtsClient:
    """Where the TTS unit is: a Unix socket path, or a ws:// URL (TCP)."""

    def __init__(
        self,
        socket_path: str | Path | None = None,
        *,
        url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if (socket_path is None) == (url is None):
            raise ValueError("give either socket_path or url")
        self.socket_path = str(socket_path) if socket_path is not None else None
        self.url = url
        # Seconds to connect, and at most between two frames of a reply.
        self.timeout = timeout

    async def connect(self) -> ClientConnection:
        options: dict[str, Any] = dict(
            open_timeout=self.timeout,
            close_timeout=1,
            max_size=4 * 1024 * 1024,
            compression=None,
            ping_interval=None,  # one reply per connection: no keepalive needed
        )
        try:
            if self.socket_path is not None:
                return await unix_connect(self.socket_path, "ws://localhost/", **options)
            assert self.url is not None
            return await connect(self.url, **options)
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            where = self.socket_path or self.url
            raise TtsUnavailable(f"cannot reach the TTS unit at {where}: {exc}") from None

    def synthesize(self, text: str, voice: str | None = None) -> Speech:
        """Speech for ``text``; iterate it (in ``async with``) for the format, then PCM."""
        return Speech(self, text, voice)

    async def check(self) -> None:
        """Connect and close: raises TtsUnavailable when the unit is not there."""
        ws = await self.connect()
        await ws.close()


class Speech:
    """One reply being synthesised: an async iterator of AudioFormat, then bytes."""

    def __init__(self, client: TtsClient, text: str, voice: str | None) -> None:
        self._client = client
        self._text = text
        self._voice = voice
        self._ws: ClientConnection | None = None
        self._done = False
        self.format: AudioFormat | None = None
        self.sentences = 0

    async def __aenter__(self) -> Speech:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        *_: object,  # the exception and its traceback: only the type matters here
    ) -> None:
        if exc_type is not None and issubclass(exc_type, asyncio.CancelledError):
            self._abort()
        else:
            await self.aclose()

    def __aiter__(self) -> Speech:
        return self

    async def __anext__(self) -> AudioFormat | bytes:
        if self._done:
            raise StopAsyncIteration
        try:
            if self._ws is None:
                self._ws = await self._client.connect()
                request = {"type": "synthesize", "text": self._text}
                if self._voice:
                    request["voice"] = self._voice
                await self._ws.send(json.dumps(request, ensure_ascii=False))
            return await self._next()
        except asyncio.CancelledError:
            # Barge-in: drop the connection at once; the server stops synthesising.
            self._abort()
            raise
        except TtsError:
            await self.aclose()
            raise

    async def _next(self) -> AudioFormat | bytes:
        assert self._ws is not None
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel.
            async with asyncio.timeout(self._client.timeout):
                frame = await self._ws.recv()
        except TimeoutError:
            raise TtsTimeout(f"no audio from the TTS unit for {self._client.timeout:g} s") from None
        except ConnectionClosed as exc:
            raise TtsUnavailable(f"the TTS unit closed the connection ({exc})") from None
        if isinstance(frame, bytes):
            if self.format is None:
                raise TtsError("protocol", "audio before audio-start")
            return frame
        try:
            event = json.loads(frame)
            kind = event["type"]
        except (ValueError, KeyError, TypeError):
            raise TtsError(
                "protocol", f"unexpected frame from the TTS unit: {frame[:80]!r}"
            ) from None
        if kind == "audio-start":
            self.format = AudioFormat(
                int(event["rate"]),
                int(event["width"]),
                int(event["channels"]),
                str(event.get("voice", "")),
                bool(event.get("cached", False)),
            )
            return self.format
        if kind == "audio-stop":
            self.sentences = int(event.get("sentences", 0))
            await self.aclose()
            raise StopAsyncIteration
        if kind == "error":
            raise TtsError(str(event.get("code", "error")), str(event.get("message", "")))
        raise TtsError("protocol", f"unexpected event {kind!r} from the TTS unit")

    async def aclose(self) -> None:
        self._done = True
        if self._ws is not None:
            ws, self._ws = self._ws, None
            await ws.close()

    def _abort(self) -> None:
        self._done = True
        if self._ws is not None:
            ws, self._ws = self._ws, None
            ws.transport.abort()

    async def read_all(self) -> tuple[AudioFormat, bytes]:
        """Everything at once (tests, tools): the format and all the PCM."""
        audio = bytearray()
        async with self:
            async for item in self:
                if isinstance(item, bytes):
                    audio += item
        if self.format is None:
            raise TtsError("protocol", "no audio-start from the TTS unit")
        return self.format, bytes(audio)
