"""`laundrybot talk`: a terminal kiosk that reconnects by itself and resumes its session."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

# Reconnect back-off: about a second, doubling to half a minute, with jitter.
BACKOFF_START = 1.0
BACKOFF_CAP = 30.0


def talk(
    url: str,
    kiosk: str,
    token: str | None,
    questions: list[str] | None,
    lang: str | None = None,
) -> int:
    client = TalkClient(url, kiosk, token, lang)
    try:
        if questions:
            return asyncio.run(client.ask_all(questions))
        return asyncio.run(client.interactive())
    except InvalidURI as exc:
        print(f"laundrybot talk: {exc}", file=sys.stderr)
        return 2


def _say(text: str) -> None:
    print(text, flush=True)


class TalkClient:
    def __init__(self, url: str, kiosk: str, token: str | None, lang: str | None = None) -> None:
        self.url = url
        self.kiosk = kiosk
        self.token = token
        # Asked for in the hello, as a kiosk screen does; None: the shop's default language.
        self.lang = lang
        self.lang_given = ""
        self.session: str | None = None
        self.resume_token: str | None = None
        # Questions sent whose answer has not arrived yet; at end of input we wait for them.
        self._unanswered = 0
        self._answered = asyncio.Event()
        # When the connection was lost (monotonic), until the next welcome: the hello then
        # reports how long this kiosk was cut off (offline_ms).
        self.lost_at: float | None = None

    async def _open(self) -> ClientConnection:
        ws = await connect(self.url, open_timeout=10, max_size=2**20)
        # A terminal, not a kiosk screen: the "kiosk gone" alert leaves it alone; it prints
        # text, so no spoken replies (they were most of what it received).
        hello: dict[str, Any] = {
            "type": "hello",
            "kiosk": self.kiosk,
            "client": "terminal",
            "audio": False,
        }
        if self.token:
            hello["token"] = self.token
        if self.lang:
            hello["lang"] = self.lang
        if self.session and self.resume_token:
            hello["resume"] = self.session
            hello["resume_token"] = self.resume_token
        if self.lost_at is not None:
            hello["offline_ms"] = round((time.monotonic() - self.lost_at) * 1000)
        await ws.send(json.dumps(hello))
        while True:
            message = json.loads(await ws.recv())
            if message.get("type") == "welcome":
                self.session = message["session"]
                self.resume_token = message.get("resume_token")
                self.lang_given = str(message.get("lang") or "")
                if (
                    self.lang
                    and self.lang_given
                    and self.lang_given.split("-")[0] != (self.lang.split("-")[0])
                ):
                    print(
                        f"laundrybot talk: the shop has no {self.lang!r} knowledge; "
                        f"answers are in {self.lang_given!r} "
                        f"(languages: {', '.join(message.get('languages') or [])})",
                        file=sys.stderr,
                    )
                if self.lost_at is not None:
                    offline = hello["offline_ms"] / 1000
                    resumed = "conversation resumed" if message.get("resumed") else "new session"
                    _say(f"[back after {offline:.1f} s offline; {resumed}]")
                    self.lost_at = None
                return ws
            if message.get("type") == "error":
                await ws.close()
                raise ConnectionError(f"{message['code']}: {message['message']}")

    async def ask_all(self, questions: list[str]) -> int:
        """Ask each question once and print the answers: for scripts and checks."""
        try:
            ws = await self._open()
        except (OSError, InvalidHandshake, ConnectionError, ConnectionClosed) as exc:
            print(f"laundrybot talk: cannot reach {self.url}: {exc}", file=sys.stderr)
            return 3  # unreachable, as for status (2 is a usage error)
        async with ws:
            for question in questions:
                await ws.send(json.dumps({"type": "text", "text": question}))
                while True:
                    message = json.loads(await ws.recv())
                    if message["type"] == "reply":
                        _say(message["text"])
                        break
                    if message["type"] == "error":
                        print(f"error {message['code']}: {message['message']}", file=sys.stderr)
                        return 1
        return 0

    async def interactive(self) -> int:
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        reader = asyncio.create_task(self._read_stdin(lines))
        delay = BACKOFF_START
        _say(f"[connecting to {self.url}; type a question, Ctrl-D to quit]")
        try:
            while True:
                try:
                    ws = await self._open()
                except (OSError, InvalidHandshake, ConnectionError, ConnectionClosed) as exc:
                    wait = delay * random.uniform(0.8, 1.2)
                    _say(f"[cannot connect: {exc}; retrying in {wait:.1f} s]")
                    await asyncio.sleep(wait)
                    delay = min(delay * 2, BACKOFF_CAP)
                    continue
                delay = BACKOFF_START
                _say(f"[connected, session {self.session}]")
                if await self._converse(ws, lines):
                    return 0
                self.lost_at = time.monotonic()
                _say("[connection lost; reconnecting]")
        finally:
            reader.cancel()

    async def _converse(self, ws: ClientConnection, lines: asyncio.Queue[str | None]) -> bool:
        """Relay until the connection drops (False) or the user quits (True)."""
        printer = asyncio.create_task(self._print_messages(ws))
        try:
            while True:
                getter = asyncio.create_task(lines.get())
                done, _ = await asyncio.wait({getter, printer}, return_when=asyncio.FIRST_COMPLETED)
                if printer in done:
                    getter.cancel()
                    return False
                line = getter.result()
                if line is None:
                    await self._wait_for_answers(printer)
                    await ws.close()
                    return True
                if line.strip():
                    try:
                        await ws.send(json.dumps({"type": "text", "text": line.strip()}))
                    except ConnectionClosed:
                        return False
                    self._unanswered += 1
        finally:
            printer.cancel()

    async def _wait_for_answers(self, printer: asyncio.Task[None], limit: float = 15) -> None:
        deadline = asyncio.get_running_loop().time() + limit
        while self._unanswered > 0 and not printer.done():
            self._answered.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._answered.wait(), remaining)

    def _got_answer(self) -> None:
        self._unanswered = max(0, self._unanswered - 1)
        self._answered.set()

    async def _print_messages(self, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                if isinstance(frame, bytes):
                    continue
                message = json.loads(frame)
                kind = message.get("type")
                if kind == "reply":
                    _say(f"laundrybot ({message['intent']}): {message['text']}")
                    self._got_answer()
                elif kind == "status":
                    degraded = ", ".join(message.get("degraded", [])) or "nothing"
                    _say(f"[status: ready={message.get('ready')}, degraded: {degraded}]")
                elif kind == "error":
                    _say(f"[error {message['code']}: {message['message']}]")
                    self._got_answer()
        except ConnectionClosed:
            pass

    @staticmethod
    async def _read_stdin(lines: asyncio.Queue[str | None]) -> None:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                await lines.put(None)
                return
            await lines.put(line)
