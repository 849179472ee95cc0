"""Errors that name what went wrong where, so an owner can fix a file without reading code."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration or knowledge file is invalid.

    The message names the file, the key path inside it (``gateway.limits.max_message_bytes``)
    and what was expected, e.g.
    ``/etc/laundrybot/laundrybot.yaml: gateway.listen: expected "HOST:PORT", got 'localhost'``.
    """

    def __init__(self, file: str | None, key: str, expected: str, got: object = ...) -> None:
        self.file = file or "<built-in defaults>"
        self.key = key or "<top level>"
        self.expected = expected
        self.got = got
        message = f"{self.file}: {self.key}: expected {expected}"
        if got is not ...:
            message += f", got {_short_repr(got)}"
        super().__init__(message)


def _short_repr(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
