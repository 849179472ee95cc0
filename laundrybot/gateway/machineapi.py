"""``POST /api/machines/{n}``: a payment system tells the gateway a machine's state.

    POST /api/machines/4 HTTP/1.1
    Authorization: Bearer <the token in machines.api_token_file>
    Content-Type: application/json
    Content-Length: 29

    {"state": "busy", "minutes": 34}

``state`` is free, busy or out-of-order; ``minutes`` (0-1440, whole) only goes with busy: the
minutes left in the cycle. The answer is JSON: ``{"number", "state", "until", "minutes_left"}``
with 200, or ``{"error": "..."}`` with 400 (bad JSON or values), 401 (missing or wrong token),
403/404 (the API is not enabled), 404 (no such machine), 405, 411, 413 (body over 1 KiB), 429
(too many requests from this address: ``Retry-After``) or 503 (the spool cannot be written).
Each accepted change is written to the spool (``upsert_machine`` and a ``machine-change``
event with ``source: api``) before the answer, and pushed to the kiosks at once.

The body, and why this module reads it itself: the gateway's HTTP is websockets'
``process_request``, which sees the request line and headers only, and websockets' request
parser refuses any request with a body (``Content-Length`` other than 0) by closing the
connection without an answer. ``ApiConnection``, the gateway's connection class, therefore
looks at the first bytes of each connection: a ``POST /api/...`` request has its body (at most
``MAX_BODY`` bytes) taken off before websockets parses the head (its ``Content-Length``
becomes 0), and left on the connection for ``MachineApi``. Every other request (the kiosks'
WebSocket handshakes, the page, /readyz) goes through untouched and at once.
"""

from __future__ import annotations

import hmac
import http
import json
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from prometheus_client import CollectorRegistry, Counter
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from laundrybot.config import Config
from laundrybot.dialog.knowledge import MachineInfo
from laundrybot.gateway.link import LinkConnection
from laundrybot.machines.state import MachineSource, MachineState, MachineStatus
from laundrybot.ratelimit import TokenBucket
from laundrybot.store.spool import Event, Spool, SpoolUnavailable

log = logging.getLogger(__name__)

API_PREFIX = "/api/machines/"
MAX_BODY = 1024
# A request head longer than this is left to websockets (which refuses it).
MAX_HEAD = 16 * 1024
# Client addresses whose rate is remembered; beyond it the oldest is forgotten.
MAX_CLIENTS = 1024
_POST_API = b"POST /api/"
_NUMBER = re.compile(r"[0-9]{1,6}")


# -- the body ------------------------------------------------------------------------------


class ApiConnection(LinkConnection):
    """The gateway's connection class: takes the body off a ``POST /api/`` request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head: bytearray | None = bytearray()  # None once the head has gone on
        self._discard = False  # the rest of an unwanted body: dropped
        self._continued = False  # "100 Continue" sent
        self.api_body: bytes = b""
        # Why the body was not taken: "too-large", "chunked", "bad-length" (None: fine).
        self.api_body_problem: str | None = None

    def data_received(self, data: bytes) -> None:
        if self._discard:
            return
        if self._head is None:
            super().data_received(data)
            return
        self._head += data
        buffered = bytes(self._head)
        if not (buffered.startswith(_POST_API) or _POST_API.startswith(buffered)):
            self._go_on(buffered)  # not the API: websockets' business, at once
            return
        end = buffered.find(b"\r\n\r\n")
        if end < 0:
            if len(buffered) > MAX_HEAD:
                self._go_on(buffered)
            return
        head, rest = buffered[: end + 4], buffered[end + 4 :]
        lines = head.split(b"\r\n")
        lengths = [_value(line) for line in lines if _named(line, b"content-length")]
        if any(_named(line, b"transfer-encoding") for line in lines):
            self._refuse_body(lines, "chunked")
            return
        if len(set(lengths)) > 1 or not all(v.isdigit() for v in lengths):
            self._refuse_body(lines, "bad-length")
            return
        length = int(lengths[0]) if lengths else 0
        if length > MAX_BODY:
            self._refuse_body(lines, "too-large")
            return
        if len(rest) < length:
            expects = [_value(line).lower() for line in lines if _named(line, b"expect")]
            if b"100-continue" in expects and not rest and not self._continued:
                self._continued = True  # the client waits for this before it sends the body
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return  # more to come (websockets' open_timeout bounds the wait)
        self.api_body = rest[:length]
        self._go_on(_without_body(lines) + rest[length:])

    def _refuse_body(self, lines: list[bytes], problem: str) -> None:
        self.api_body_problem = problem
        self._discard = True
        self._go_on(_without_body(lines), discard_after=True)

    def _go_on(self, data: bytes, discard_after: bool = False) -> None:
        self._head = None
        self._discard = False
        super().data_received(data)
        self._discard = discard_after


def _named(line: bytes, name: bytes) -> bool:
    key, sep, _ = line.partition(b":")
    return bool(sep) and key.strip().lower() == name


def _value(line: bytes) -> bytes:
    return line.partition(b":")[2].strip()


def _without_body(lines: list[bytes]) -> bytes:
    kept = [
        line
        for line in lines
        if not any(
            _named(line, name) for name in (b"content-length", b"transfer-encoding", b"expect")
        )
    ]
    return b"\r\n".join(kept)  # still ends with the empty line pair


# -- the request ---------------------------------------------------------------------------


class Change(msgspec.Struct, forbid_unknown_fields=True):
    state: Literal["free", "busy", "out-of-order"]
    minutes: Annotated[int, msgspec.Meta(ge=0, le=1440)] | None = None


class ApiError(Exception):
    def __init__(self, status: http.HTTPStatus, message: str, **headers: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class MachineApi:
    def __init__(
        self,
        *,
        spool: Spool,
        config: Callable[[], Config],
        machines: Callable[[], Iterable[MachineInfo]],
        statuses: Callable[[], Mapping[int, MachineStatus]],
        changed: Callable[[], Awaitable[None]],
        registry: CollectorRegistry,
    ) -> None:
        self.spool = spool
        self.config = config
        self.machines = machines
        self.statuses = statuses
        self.changed = changed
        self.requests = Counter(
            "laundrybot_machine_api_requests",
            "Requests to POST /api/machines/N, by HTTP status.",
            ["code"],
            registry=registry,
        )
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._tokens: tuple[tuple[str, float, int], tuple[bytes, ...]] | None = None

    async def handle(self, connection: ServerConnection, request: Request) -> Response:
        try:
            answer = await self._handle(connection, request)
            code = http.HTTPStatus.OK
        except ApiError as exc:
            code = exc.status
            self.requests.labels(str(code.value)).inc()
            return _json(code, {"error": exc.message}, exc.headers)
        self.requests.labels(str(code.value)).inc()
        return _json(code, answer)

    async def _handle(self, connection: ServerConnection, request: Request) -> dict[str, Any]:
        tokens = self._enabled()
        if not self._bucket(_address(connection)).take():
            raise ApiError(
                http.HTTPStatus.TOO_MANY_REQUESTS, "too many requests; slow down", Retry_After="1"
            )
        self._authorize(request, tokens)
        if request.method != "POST":
            raise ApiError(http.HTTPStatus.METHOD_NOT_ALLOWED, "use POST", Allow="POST")
        number = self._machine(request.path.partition("?")[0].removeprefix(API_PREFIX))
        change = self._change(connection)
        return await self._apply(number, change, _address(connection))

    def _enabled(self) -> tuple[bytes, ...]:
        setting = self.config().machines.api_token_file
        if not setting:
            raise ApiError(
                http.HTTPStatus.NOT_FOUND,
                "the machine API is not enabled (set machines.api_token_file)",
            )
        tokens = self._read_tokens(Path(setting))
        if not tokens:
            raise ApiError(
                http.HTTPStatus.FORBIDDEN,
                "the machine API is not enabled: its token file is missing or empty",
            )
        return tokens

    def _read_tokens(self, path: Path) -> tuple[bytes, ...]:
        """One token a line (several: a new one and the one it replaces); read again when the
        file changes, so a new token needs no restart."""
        try:
            stat = os.stat(path)
        except OSError:
            self._tokens = None
            return ()
        key = (str(path), stat.st_mtime, stat.st_size)
        if self._tokens is not None and self._tokens[0] == key:
            return self._tokens[1]
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            log.error("machine API: cannot read its token file: %s", exc)
            return ()
        tokens = tuple(
            line.strip().encode()
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        )
        self._tokens = (key, tokens)
        return tokens

    def _bucket(self, address: str) -> TokenBucket:
        bucket = self._buckets.get(address)
        if bucket is None:
            settings = self.config().machines
            bucket = TokenBucket(settings.api_rate, settings.api_burst)
            self._buckets[address] = bucket
            if len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(address)
        return bucket

    @staticmethod
    def _authorize(request: Request, tokens: tuple[bytes, ...]) -> None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        offered = given.strip().encode("utf-8", "replace")
        # Compared with every token, in constant time, whatever matches.
        good = False
        for token in tokens:
            good |= hmac.compare_digest(offered, token)
        if scheme.lower() != "bearer" or not good:
            raise ApiError(
                http.HTTPStatus.UNAUTHORIZED,
                "a valid token is needed: Authorization: Bearer TOKEN",
                WWW_Authenticate="Bearer",
            )

    def _machine(self, text: str) -> int:
        numbers = sorted(m.number for m in self.machines())
        if _NUMBER.fullmatch(text) and int(text) in numbers:
            return int(text)
        shown = text[:20] if text.isprintable() else "that"
        raise ApiError(
            http.HTTPStatus.NOT_FOUND,
            f"no machine {shown} in this shop (machines: {_ranges(numbers)})",
        )

    @staticmethod
    def _change(connection: ServerConnection) -> Change:
        problem = getattr(connection, "api_body_problem", None)
        if problem == "too-large":
            raise ApiError(
                http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is over {MAX_BODY} bytes"
            )
        if problem is not None:
            raise ApiError(http.HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
        body = getattr(connection, "api_body", b"")
        if not body.strip():
            raise ApiError(
                http.HTTPStatus.BAD_REQUEST,
                'expected a JSON body such as {"state": "busy", "minutes": 34}',
            )
        try:
            change = msgspec.json.decode(body, type=Change)
        except msgspec.ValidationError as exc:
            expected = "state: free, busy or out-of-order; minutes: whole minutes left, busy only"
            raise ApiError(http.HTTPStatus.BAD_REQUEST, f"{exc} ({expected})") from None
        except msgspec.DecodeError as exc:
            raise ApiError(http.HTTPStatus.BAD_REQUEST, f"the body is not JSON: {exc}") from None
        if change.minutes is not None and change.state != "busy":
            raise ApiError(http.HTTPStatus.BAD_REQUEST, "minutes only go with state busy")
        return change

    async def _apply(self, number: int, change: Change, address: str) -> dict[str, Any]:
        now = time.time()
        state = MachineState(change.state)
        until = now + change.minutes * 60 if change.minutes is not None else None
        previous = self.statuses().get(number)
        status = MachineStatus(number, state, until, now, MachineSource.API.value)
        detail: dict[str, object] = {
            "state": state.value,
            "until": until,
            "source": MachineSource.API.value,
            "by": f"api {address}",
            "previous": previous.state.value if previous is not None else None,
        }
        event = Event(kind="machine-change", machine=number, detail=detail, ts=now)
        try:
            await self.spool.record(status, event)
        except SpoolUnavailable as exc:
            log.error("machine API: machine %d not recorded: %s", number, exc)
            raise ApiError(
                http.HTTPStatus.SERVICE_UNAVAILABLE, "the change could not be stored; send it again"
            ) from None
        log.info("machines: machine %d is %s (api, %s)", number, state.value, address)
        await self.changed()
        return {
            "number": number,
            "state": state.value,
            "until": round(until, 3) if until is not None else None,
            "minutes_left": change.minutes,
        }


def _address(connection: ServerConnection) -> str:
    remote = connection.remote_address
    return str(remote[0]) if remote else "local"


def _ranges(numbers: list[int]) -> str:
    parts: list[str] = []
    for n in numbers:
        if parts and parts[-1].split("-")[-1] == str(n - 1):
            parts[-1] = f"{parts[-1].split('-')[0]}-{n}"
        else:
            parts.append(str(n))
    return ", ".join(parts)


def _json(status: http.HTTPStatus, body: dict[str, Any], extra: Mapping[str, str] = {}) -> Response:
    data = (json.dumps(body) + "\n").encode()
    headers = Headers(
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
            ("Connection", "close"),
        ]
        + [(name.replace("_", "-"), value) for name, value in extra.items()]
    )
    return Response(status.value, status.phrase, headers, data)
