"""Webhook channel: an HTTP POST per notification, with a small asyncio HTTP/1.1 client.

The client does exactly what a webhook needs and nothing else: one POST on a fresh connection
(``Connection: close``), TLS with the system's certificates for https, the status line and
headers read back, a short piece of the body kept for error messages. No redirects are
followed (a webhook that moved is a configuration error the owner must see). A 2xx status
means accepted; anything else is retried by the delivery loop, honouring ``Retry-After``.

Every request carries the notification id twice: in the body (``id``) and in the
``Idempotency-Key`` header, so that a receiver can drop a repeat after a retry.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import ssl
import urllib.parse
from dataclasses import dataclass

from laundrybot import __version__
from laundrybot.notify.base import Channel, ChannelError
from laundrybot.notify.message import Notification

MAX_HEADER_BYTES = 64 * 1024
ERROR_BODY_BYTES = 300


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


def shown_url(url: str) -> str:
    """scheme://host[:port]/... : enough to recognise it, nothing secret (paths may be)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


async def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    ssl_context: ssl.SSLContext | None = None,
) -> HttpResponse:
    """POST ``body`` to ``url``; the caller bounds the time (asyncio.timeout)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChannelError("not an http(s) URL")
    secure = parts.scheme == "https"
    host = parts.hostname
    port = parts.port or (443 if secure else 80)
    context = None
    if secure:
        context = ssl_context or ssl.create_default_context()
    reader, writer = await asyncio.open_connection(
        host, port, ssl=context, server_hostname=host if secure else None
    )
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = f"[{host}]" if ":" in host else host
        if parts.port:
            host_header += f":{parts.port}"
        lines = [f"POST {target} HTTP/1.1", f"Host: {host_header}"]
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            password = urllib.parse.unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            lines.append(f"Authorization: Basic {token}")
        for key, value in headers.items():
            if "\r" in value or "\n" in value:
                raise ChannelError(f"header {key} holds a line break")
            lines.append(f"{key}: {value}")
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        writer.write("\r\n".join(lines).encode("utf-8") + body)
        await writer.drain()
        return await _read_response(reader)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 1)


async def _read_response(reader: asyncio.StreamReader) -> HttpResponse:
    status_line = await reader.readline()
    if not status_line:
        raise ChannelError("the server closed the connection without an answer")
    try:
        version, code, *reason = status_line.decode("latin-1").split(" ", 2)
        status = int(code)
    except ValueError:
        raise ChannelError("the server's answer is not HTTP") from None
    if not version.startswith("HTTP/"):
        raise ChannelError("the server's answer is not HTTP")
    headers: dict[str, str] = {}
    size = len(status_line)
    while True:
        line = await reader.readline()
        size += len(line)
        if size > MAX_HEADER_BYTES:
            raise ChannelError("the server's headers are too long")
        if line in (b"\r\n", b"\n", b""):
            break
        key, _, value = line.decode("latin-1").partition(":")
        headers[key.strip().lower()] = value.strip()
    body = b""
    if not 200 <= status < 300:
        # A little of an error body helps the owner ("invalid token"); never wait long for it.
        with contextlib.suppress(Exception):
            body = await asyncio.wait_for(reader.read(ERROR_BODY_BYTES), 1)
    return HttpResponse(status, (reason[0] if reason else "").strip(), headers, body)


def retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after", "")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the backoff decides


class WebhookChannel(Channel):
    kind = "webhook"

    def __init__(self, name: str, url: str, body_format: str, token: str | None) -> None:
        super().__init__(name)
        self.url = url
        self.format = body_format
        self.token = token

    def describe(self) -> str:
        auth = ", bearer token" if self.token else ""
        return f"webhook {self.name} ({shown_url(self.url)}, {self.format} body{auth})"

    def request(self, n: Notification) -> tuple[bytes, dict[str, str]]:
        headers = {
            "User-Agent": f"laundrybot/{__version__}",
            "Idempotency-Key": n.id,
            "X-Laundrybot-Id": n.id,
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.format == "text":
            # Plain text: ntfy and other push services take the body as the message; the
            # Title/Priority/Tags headers are ntfy's and harmless elsewhere.
            headers["Content-Type"] = "text/plain; charset=utf-8"
            headers["Title"] = _header_text(n.title)
            headers["Priority"] = "high" if n.urgent else "default"
            headers["Tags"] = {"escalation": "bell", "alert": "warning"}.get(n.category, "memo")
            return n.text.encode("utf-8"), headers
        headers["Content-Type"] = "application/json"
        payload = {"text": n.text} if self.format == "chat" else n.body()
        return json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers

    async def send(self, notification: Notification) -> None:
        body, headers = self.request(notification)
        try:
            response = await post(self.url, body, headers)
        except ssl.SSLError as exc:
            raise ChannelError(f"TLS: {exc.reason or exc}") from None
        except OSError as exc:
            raise ChannelError(f"cannot connect: {exc.strerror or exc}") from None
        except asyncio.IncompleteReadError:
            raise ChannelError("the server closed the connection mid-answer") from None
        if 200 <= response.status < 300:
            return
        text = response.body.decode("utf-8", "replace").strip().replace("\n", " ")[:200]
        message = f"HTTP {response.status} {response.reason}".strip()
        if text:
            message += f": {text}"
        raise ChannelError(message, retry_after(response.headers))


def _header_text(text: str) -> str:
    """HTTP headers are Latin-1: keep ASCII, drop the rest."""
    return text.encode("ascii", "replace").decode("ascii").replace("\r", " ").replace("\n", " ")
