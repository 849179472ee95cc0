"""A real mosquitto for the tests: Debian's `mosquitto` package (.ci/test installs it), run as
a child process on a free loopback port with a generated configuration, never the system
service. It can be stopped and started again on the same port (a broker restart), with or
without TLS (a throwaway CA and certificate made with openssl) and a password file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiomqtt
import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """One mosquitto; ``start`` and ``stop`` may be called again (a restart, same port)."""

    def __init__(self, folder: Path, tls: bool = False, users: dict[str, str] | None = None):
        self.folder = folder
        self.port = free_port()
        self.tls = tls
        self.users = users or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder / "mosquitto.log"
        self.ca = folder / "ca.pem"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence true",
            f"persistence_location {folder}/",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "max_queued_messages 100000",
            # Started as root (CI containers), mosquitto would become the "mosquitto" user,
            # which cannot read this test's files.
            f"user {pwd.getpwuid(os.getuid()).pw_name}",
        ]
        if self.users:
            passwords = folder / "passwords"
            passwords.write_text("")
            for user, password in self.users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwords), user, password],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        if tls:
            self._make_certificates()
            lines += [
                f"certfile {folder}/server.pem",
                f"keyfile {folder}/server.key",
            ]
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")

    def _make_certificates(self) -> None:
        f = self.folder

        def openssl(*args: str) -> None:
            subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=f)

        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                "/CN=laundrybot test CA", "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
        (f / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf",
                "-out", "server.pem")  # fmt: skip
        os.chmod(f / "server.key", 0o600)

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None
        # Not the test's fake NOTIFY_SOCKET: mosquitto would send its own READY=1 there.
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("ab"),
        )
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.proc.poll() is not None:
                raise AssertionError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            assert time.monotonic() < deadline, "mosquitto did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM): mosquitto saves its persistent sessions."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def client(self, **extra: object) -> aiomqtt.Client:
        """A publisher for the test (QoS 1 by the caller)."""
        args: dict[str, object] = {"hostname": "127.0.0.1", "port": self.port}
        if self.users:
            user, password = next(iter(self.users.items()))
            args |= {"username": user, "password": password}
        if self.tls:
            import ssl

            args["tls_context"] = ssl.create_default_context(cafile=str(self.ca))
            args["hostname"] = "localhost"
        args |= extra
        return aiomqtt.Client(**args)  # type: ignore[arg-type]


@pytest.fixture
def make_broker(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """Start a mosquitto: make_broker(tls=True, users={"name": "password"}); all stopped after."""
    if not os.path.exists(MOSQUITTO):
        if os.environ.get("CI"):
            pytest.fail("mosquitto is missing: .ci/test installs Debian's mosquitto package")
        pytest.skip("mosquitto not installed (apt install mosquitto)")
    brokers: list[Broker] = []

    def make(tls: bool = False, users: dict[str, str] | None = None) -> Broker:
        broker = Broker(tmp_path / f"mosquitto-{len(brokers)}", tls=tls, users=users)
        brokers.append(broker)
        broker.start()
        return broker

    yield make
    for broker in brokers:
        broker.stop()


@pytest.fixture
def mosquitto(make_broker: Callable[..., Broker]) -> Broker:
    """A plain mosquitto: anonymous, no TLS."""
    return make_broker()


async def publish(broker: Broker, *messages: tuple[str, str | bytes, bool]) -> None:
    """Publish (topic, payload, retain) with QoS 1 and wait for the broker's acks."""
    async with broker.client() as client:
        for topic, payload, retain in messages:
            await client.publish(topic, payload, qos=1, retain=retain)


async def eventually(check: object, timeout: float = 10, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(AssertionError):
            if check():  # type: ignore[operator]
                return
        if time.monotonic() > deadline:
            assert check(), "condition not met in time"  # type: ignore[operator]
        await asyncio.sleep(step)
