"""An asyncio client of the ASR unit (or of any vosk-server), for the gateway.

    client = AsrClient(config.asr_socket_path)
    async with client.stream(lang="ko", sample_rate=16000, phrases=[...]) as stream:
        for frame in frames:
            result = await stream.send(frame)      # exactly one reply per frame
            if result.final: ...                   # an endpoint: result.text, result.words
            else: ...                              # result.text is the partial
        result = await stream.finish()             # eof: the final result; the stream closes

``reset()`` gets the final result and keeps the stream open for the next utterance. Failures
raise ``AsrError``: ``AsrUnavailable`` when the unit cannot be reached or drops the
connection, ``AsrTimeout`` when a reply takes longer than ``timeout``, plain ``AsrError`` for
an ``{"error": ...}`` reply (the stream stays usable after those).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect, unix_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI


class AsrError(Exception):
    """The ASR unit answered with an error, or could not answer."""


class AsrUnavailable(AsrError):
    pass


class AsrTimeout(AsrError):
    pass


@dataclass(frozen=True)
class AsrResult:
    text: str
    # True for a result (endpoint, reset, eof); False for a partial.
    final: bool
    # Per word: {"word", "start", "end", "conf"} (finals with words=True only).
    words: list[dict[str, Any]] = field(default_factory=list)
    # The reply as the server sent it.
    raw: dict[str, Any] = field(default_factory=dict)


# The handshake response header naming the languages the ASR unit hears ("en, ko").
LANGUAGES_HEADER = "X-Laundrybot-Languages"


class AsrClient:
    """Where the ASR unit is: a Unix socket path, or a ws:// URL (TCP, e.g. a vosk-server)."""

    def __init__(
        self,
        socket_path: str | Path | None = None,
        *,
        url: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        if (socket_path is None) == (url is None):
            raise ValueError("give either socket_path or url")
        self.socket_path = str(socket_path) if socket_path is not None else None
        self.url = url.rstrip("/") if url else None
        # Seconds to connect and to wait for each reply.
        self.timeout = timeout

    def stream(
        self,
        lang: str | None = None,
        sample_rate: int = 16000,
        phrases: Sequence[str] | None = None,
        words: bool = True,
    ) -> AsrStream:
        """A recognition stream (use ``async with``); ``lang`` None: the unit's default."""
        config: dict[str, Any] = {"sample_rate": sample_rate, "words": words}
        if phrases:
            config["phrase_list"] = list(phrases)
        return AsrStream(self, lang or "", config)

    async def connect(self, lang: str = "") -> ClientConnection:
        options: dict[str, Any] = dict(
            open_timeout=self.timeout,
            close_timeout=1,
            compression=None,
            max_size=1024 * 1024,
        )
        try:
            if self.socket_path is not None:
                return await unix_connect(self.socket_path, f"ws://localhost/{lang}", **options)
            assert self.url is not None
            return await connect(f"{self.url}/{lang}" if lang else self.url, **options)
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            where = self.socket_path or self.url
            raise AsrUnavailable(f"cannot reach the ASR unit at {where}: {exc}") from None

    async def check(self) -> None:
        """Connect and close: raises AsrUnavailable when the unit is not there."""
        await self.languages()

    async def languages(self) -> list[str] | None:
        """Connect and close; the languages the unit hears, as its handshake names them
        (header ``X-Laundrybot-Languages``), or None from a server that does not say (a
        vosk-server). Raises AsrUnavailable when the unit is not there."""
        ws = await self.connect()
        try:
            named = ws.response.headers.get(LANGUAGES_HEADER) if ws.response else None
        finally:
            await ws.close()
        if named is None:
            return None
        return [lang.strip() for lang in named.split(",") if lang.strip()]


class AsrStream:
    """One utterance stream (one WebSocket connection, one recognizer on the server)."""

    def __init__(self, client: AsrClient, lang: str, config: dict[str, Any]) -> None:
        self._client = client
        self._lang = lang
        self._config = config
        self._ws: ClientConnection | None = None
        self.closed = False

    async def __aenter__(self) -> AsrStream:
        await self.open()
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

    async def open(self) -> None:
        """Connect and configure; raises AsrError if the server answers the config with an
        error (neither vosk-server nor this unit does; an older unit did)."""
        if self._ws is not None or self.closed:
            return
        self._ws = await self._client.connect(self._lang)
        await self._send(json.dumps({"config": self._config}, ensure_ascii=False))
        # vosk-server answers nothing to a good config, so follow it with a reset (cheap
        # before any audio) as a barrier: an error before its reply is the config's.
        await self._send('{"reset": 1}')
        try:
            await self._reply()
        except AsrUnavailable:
            raise
        except AsrError as exc:
            with contextlib.suppress(AsrError):
                await self._reply()
            await self.aclose()
            raise AsrError(f"the ASR unit refused the stream's config: {exc}") from None

    async def send(self, pcm: bytes) -> AsrResult:
        """Send s16le mono audio; returns its one reply (a partial, or final at an endpoint)."""
        await self.open()
        await self._send(pcm)
        return await self._reply()

    async def reset(self) -> AsrResult:
        """The final result of what was heard; the stream goes on with a new utterance."""
        await self.open()
        await self._send('{"reset": 1}')
        return await self._reply()

    async def finish(self) -> AsrResult:
        """The final result (eof); the server then closes the stream."""
        await self.open()
        await self._send('{"eof": 1}')
        result = await self._reply()
        await self.aclose()
        return result

    async def _send(self, frame: str | bytes) -> None:
        if self.closed or self._ws is None:
            raise AsrUnavailable("the stream is closed")
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel.
            async with asyncio.timeout(self._client.timeout):
                await self._ws.send(frame)
        except TimeoutError:
            self._abort()
            raise AsrTimeout(f"the ASR unit took no audio for {self._client.timeout:g} s") from None
        except ConnectionClosed as exc:
            self._abort()
            raise AsrUnavailable(f"the ASR unit closed the stream ({exc})") from None

    async def _reply(self) -> AsrResult:
        assert self._ws is not None
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel.
            async with asyncio.timeout(self._client.timeout):
                frame = await self._ws.recv()
        except TimeoutError:
            self._abort()
            raise AsrTimeout(f"no reply from the ASR unit in {self._client.timeout:g} s") from None
        except ConnectionClosed as exc:
            self._abort()
            raise AsrUnavailable(f"the ASR unit closed the stream ({exc})") from None
        except asyncio.CancelledError:
            # A reply is owed: the connection is out of step now, so drop it.
            self._abort()
            raise
        try:
            reply = json.loads(frame)
            if not isinstance(reply, dict):
                raise ValueError(frame)
        except ValueError:
            self._abort()
            raise AsrError(f"unexpected reply from the ASR unit: {str(frame)[:80]!r}") from None
        if "error" in reply:
            raise AsrError(str(reply["error"]))
        if "partial" in reply:
            return AsrResult(str(reply["partial"]), False, raw=reply)
        text = reply.get("text")
        if text is None and reply.get("alternatives"):
            text = reply["alternatives"][0].get("text", "")
        return AsrResult(str(text or ""), True, list(reply.get("result", [])), reply)

    async def aclose(self) -> None:
        self.closed = True
        if self._ws is not None:
            ws, self._ws = self._ws, None
            await ws.close()

    def _abort(self) -> None:
        self.closed = True
        if self._ws is not None:
            ws, self._ws = self._ws, None
            ws.transport.abort()
