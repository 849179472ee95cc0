"""E-mail channel: SMTP with STARTTLS (or implicit TLS), smtplib in a thread of its own.

The password comes from ``notify.email.password_file`` or the systemd credential
``smtp-password`` and is never logged. The Message-ID is derived from the notification id, so
a mail system (or a person) can tell a retried message from a new one.
"""

from __future__ import annotations

import asyncio
import email.message
import email.utils
import smtplib
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from laundrybot.config import Config
from laundrybot.notify.base import Channel, ChannelError, credential, read_secret
from laundrybot.notify.message import Notification


def message_id(notification_id: str) -> str:
    return f"<{notification_id}@laundrybot>"


class EmailChannel(Channel):
    kind = "email"

    def __init__(
        self,
        to: tuple[str, ...],
        sender: str,
        host: str,
        port: int,
        security: str,
        username: str,
        password: str | None,
        ca_file: str,
        timeout: float,
    ) -> None:
        super().__init__("email")
        self.to = to
        self.sender = sender or f"laundrybot@{socket.gethostname() or 'localhost'}"
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.ca_file = ca_file
        self.timeout = timeout
        # Its own threads: a hung SMTP server never starves the default executor.
        self._executor = ThreadPoolExecutor(2, thread_name_prefix="notify-smtp")

    @classmethod
    def from_config(cls, config: Config) -> EmailChannel:
        mail = config.notify.email
        password = None
        if mail.username:
            if mail.password_file:
                password = read_secret(Path(mail.password_file), "notify.email.password_file", True)
            else:
                cred = credential("smtp-password")
                password = read_secret(cred, "notify.email.password_file", False) if cred else None
        return cls(
            to=mail.to,
            sender=mail.sender,
            host=mail.host,
            port=mail.port,
            security=mail.security,
            username=mail.username,
            password=password,
            ca_file=mail.ca_file,
            timeout=config.notify.attempt_timeout,
        )

    def describe(self) -> str:
        login = f", login {self.username}" if self.username else ""
        return f"email to {', '.join(self.to)} via {self.host}:{self.port} ({self.security}{login})"

    def build(self, n: Notification) -> email.message.EmailMessage:
        msg = email.message.EmailMessage()
        prefix = "[urgent] " if n.category == "escalation" else ""
        msg["Subject"] = f"{prefix}{n.shop_name}: {n.title}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Date"] = email.utils.formatdate(n.ts, localtime=True)
        msg["Message-ID"] = message_id(n.id)
        msg["X-Laundrybot-Id"] = n.id
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(n.email_body())
        return msg

    async def send(self, notification: Notification) -> None:
        msg = self.build(notification)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._send, msg)

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(self.ca_file)
        return context

    def _send(self, msg: email.message.EmailMessage) -> None:
        try:
            if self.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                smtp.ehlo()
                if self.security == "starttls":
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
                if self.username:
                    if self.password is None:
                        raise ChannelError(
                            "no SMTP password (notify.email.password_file or the "
                            "smtp-password credential)"
                        )
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(msg)
            if refused:
                raise ChannelError(f"the server refused {', '.join(refused)}")
        except smtplib.SMTPResponseException as exc:
            # Usually the server's bytes, but smtplib passes a str for some of its own errors.
            error = exc.smtp_error
            text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
            raise ChannelError(f"SMTP {exc.smtp_code} {text}".strip()) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ChannelError(f"SMTP: {exc}") from None
        except smtplib.SMTPException as exc:
            raise ChannelError(f"SMTP: {exc}") from None
        except ssl.SSLError as exc:
            raise ChannelError(f"TLS: {exc.reason or exc}") from None
        except OSError as exc:
            raise ChannelError(f"cannot connect: {exc.strerror or exc}") from None

    async def close(self) -> None:
        await asyncio.to_thread(self._executor.shutdown, wait=False)
