"""Telling systemd the truth: sd_notify, the watchdog period and socket activation.

A few lines of our own instead of a dependency. Outside systemd (no ``NOTIFY_SOCKET``,
no ``LISTEN_FDS``) every function here is a silent no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)

SD_LISTEN_FDS_START = 3


class Notifier:
    """Sends sd_notify datagrams to ``$NOTIFY_SOCKET``; does nothing when it is not set."""

    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self._address: str | None = None
        self._sock: socket.socket | None = None
        if address:
            # "@name" is an abstract socket: the leading "@" stands for a NUL byte.
            self._address = "\0" + address[1:] if address.startswith("@") else address
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.setblocking(False)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def notify(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` lines in one datagram. Never raises: systemd may be restarting."""
        if self._sock is None or self._address is None:
            return False
        message = "\n".join(assignments).encode("utf-8", "replace")
        try:
            self._sock.sendto(message, self._address)
        except OSError as exc:
            log.warning("sd_notify failed: %s", exc)
            return False
        return True

    def ready(self, status: str | None = None) -> None:
        self.notify("READY=1", *self._status(status))

    def status(self, status: str) -> None:
        # One line: systemctl shows STATUS= as a single line.
        self.notify(*self._status(status))

    def watchdog(self) -> None:
        self.notify("WATCHDOG=1")

    def reloading(self) -> None:
        # MONOTONIC_USEC lets newer systemd order the reload against READY=1.
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self, status: str | None = None) -> None:
        self.notify("STOPPING=1", *self._status(status))

    @staticmethod
    def _status(status: str | None) -> list[str]:
        if status is None:
            return []
        return ["STATUS=" + " ".join(status.split())]

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None if not wanted here."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None  # the watchdog is meant for another process (e.g. our parent)
    return int(usec) / 1_000_000 / 2


def listen_sockets(unset_environment: bool = True) -> list[socket.socket]:
    """The sockets systemd passed us (socket activation), or an empty list."""
    pid = os.environ.get("LISTEN_PID", "")
    count = os.environ.get("LISTEN_FDS", "")
    if unset_environment:
        for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            os.environ.pop(name, None)
    if pid != str(os.getpid()) or not count.isdigit():
        return []
    sockets = []
    for fd in range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + int(count)):
        os.set_inheritable(fd, False)
        sockets.append(socket.socket(fileno=fd))
    return sockets
