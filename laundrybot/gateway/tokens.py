"""Kiosk tokens: who may connect (per kiosk name), and who may read the gateway's HTTP figures.

``gateway.tokens`` maps kiosk names to their tokens (``gateway.token_files`` to files holding
them); a kiosk's hello must carry the token of the name it claims. The older form, a list of
tokens any kiosk name may use, is still accepted. With no tokens at all, kiosks need none.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path

from laundrybot.config import GatewayConfig
from laundrybot.errors import ConfigError


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Tokens:
    # Digests only: compared in constant time, and a memory dump shows no token.
    per_kiosk: dict[str, bytes] = field(default_factory=dict)
    shared: tuple[bytes, ...] = ()

    @property
    def required(self) -> bool:
        return bool(self.per_kiosk or self.shared)

    def allows(self, kiosk: str, token: str | None) -> bool:
        """May ``kiosk`` connect with ``token``?"""
        if not self.required:
            return True
        given = _digest(token or "")
        mine = self.per_kiosk.get(kiosk)
        if mine is not None and hmac.compare_digest(given, mine):
            return True
        return any(hmac.compare_digest(given, t) for t in self.shared)

    def known(self, token: str | None) -> bool:
        """Is ``token`` any kiosk's token? (For the HTTP endpoints.)"""
        if not token:
            return False
        given = _digest(token)
        every = (*self.per_kiosk.values(), *self.shared)
        return any(hmac.compare_digest(given, t) for t in every)


def load_tokens(settings: GatewayConfig) -> Tokens:
    """gateway.tokens and gateway.token_files (blocking: reads files)."""
    tokens = settings.tokens
    per_kiosk: dict[str, bytes] = {}
    shared: tuple[bytes, ...] = ()
    if isinstance(tokens, dict):
        per_kiosk = {name: _digest(token) for name, token in tokens.items() if token}
    else:
        shared = tuple(_digest(token) for token in tokens if token)
    for name, path in settings.token_files.items():
        if name in per_kiosk:
            raise ConfigError(None, f"gateway.token_files.{name}", "a kiosk not in gateway.tokens")
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(path, "", f"a readable token file ({exc})") from None
        if not token:
            raise ConfigError(path, "", "a token (the file is empty)")
        per_kiosk[name] = _digest(token)
    return Tokens(per_kiosk, shared)
